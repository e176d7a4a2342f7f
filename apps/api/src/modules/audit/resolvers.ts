import { auditTrailWriteAccess } from "@rcmnet/db";
import type { Policy } from "../../auth/policy.ts";
import { AUDIT_READERS } from "../../auth/roles.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { chainVerifier } from "./chainVerifier.ts";
import { listAuditEvents } from "./listAuditEvents.ts";
import { hashFor, reasonFor, reasonWithheld, redactAuditJson } from "./redact.ts";

export const resolvers: Resolvers = {
  Query: {
    auditTrail: (_p, args, ctx) => listAuditEvents(ctx.prisma, args.filter, args),
    verifyAuditTrail: async (_p, args, ctx) => {
      const s = await chainVerifier(ctx.prisma, ctx.env).verify(ctx.prisma, { full: args.full ?? false });
      const r = s.anchorRecency;
      const seq = (n: bigint | number | null) => (n === null ? null : String(n));
      const { role, access } = await auditTrailWriteAccess(ctx.prisma);
      return {
        ...s,
        platformRoleCanRewrite: access === null ? null : `${role} ${access}`,
        firstBrokenSeq: seq(s.firstBrokenSeq),
        fullyVerifiedThrough: seq(s.fullyVerifiedThrough),
        anchorRecency: {
          ...r,
          newestAnchoredSeq: seq(r.newestAnchoredSeq),
          unanchoredFromSeq: seq(r.unanchoredFromSeq),
          unanchoredToSeq: seq(r.unanchoredToSeq),
        },
      };
    },
  },
  AuditEvent: {
    seq: (e) => e.seq.toString(),
    // Field-level rule: patientRef inside snapshots only for roles that may see it (not ADMIN).
    before: (e, _a, ctx) => redactAuditJson(e.before, ctx.user?.role),
    after: (e, _a, ctx) => redactAuditJson(e.after, ctx.user?.role),
    reason: (e, _a, ctx) => reasonFor(e.action, e.reason, ctx.user?.role),
    reasonWithheld: (e, _a, ctx) => reasonWithheld(e.action, e.reason, ctx.user?.role),
    hash: (e, _a, ctx) => hashFor(e.hash, ctx.user?.role),
    prevHash: (e, _a, ctx) => hashFor(e.prevHash, ctx.user?.role),
  },
};

export const policy: Policy = {
  "Query.auditTrail": AUDIT_READERS,
  "Query.verifyAuditTrail": AUDIT_READERS,
};
