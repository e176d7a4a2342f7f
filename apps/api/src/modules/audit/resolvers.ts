import { verifyAuditChain } from "@rcmnet/db";
import type { Policy } from "../../auth/policy.ts";
import { AUDIT_READERS } from "../../auth/roles.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { listAuditEvents } from "./listAuditEvents.ts";
import { redactAuditJson } from "./redact.ts";

export const resolvers: Resolvers = {
  Query: {
    auditTrail: (_p, args, ctx) => listAuditEvents(ctx.prisma, args.filter, args),
    verifyAuditTrail: async (_p, _a, ctx) => {
      const s = await verifyAuditChain(ctx.prisma);
      return { ...s, firstBrokenSeq: s.firstBrokenSeq === null ? null : String(s.firstBrokenSeq) };
    },
  },
  AuditEvent: {
    seq: (e) => e.seq.toString(),
    // Field-level rule: patientRef inside snapshots only for roles that may see it (not ADMIN).
    before: (e, _a, ctx) => redactAuditJson(e.before, ctx.user?.role),
    after: (e, _a, ctx) => redactAuditJson(e.after, ctx.user?.role),
  },
};

export const policy: Policy = {
  "Query.auditTrail": AUDIT_READERS,
  "Query.verifyAuditTrail": AUDIT_READERS,
};
