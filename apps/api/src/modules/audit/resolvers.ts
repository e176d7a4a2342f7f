import { verifyAuditChain } from "@rcmnet/db";
import type { Policy } from "../../auth/policy.ts";
import { AUDIT_READERS } from "../../auth/roles.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { listAuditEvents } from "./listAuditEvents.ts";

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
  },
};

export const policy: Policy = {
  "Query.auditTrail": AUDIT_READERS,
  "Query.verifyAuditTrail": AUDIT_READERS,
};
