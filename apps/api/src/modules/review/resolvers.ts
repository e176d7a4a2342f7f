import type { Policy } from "../../auth/policy.ts";
import { CASE_READERS } from "../../auth/roles.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { actor } from "../../lib/actor.ts";
import { allowedLabels } from "./reviewRules.ts";
import { reclassifyCell } from "./reclassifyCell.ts";
import { BULK_MIN_CONFIDENCE, bulkExcludedLabels, confirmCells } from "./confirmCells.ts";

export const resolvers: Resolvers = {
  Query: {
    reviewLabels: (_p, _a, ctx) => allowedLabels(ctx.prisma),
    reviewPolicy: async (_p, _a, ctx) => ({ bulkMinConfidence: BULK_MIN_CONFIDENCE, bulkExcludedLabels: await bulkExcludedLabels(ctx.prisma) }),
  },
  Mutation: {
    reclassifyCell: (_p, args, ctx) => reclassifyCell(ctx.prisma, actor(ctx), args.input),
    confirmCells: (_p, args, ctx) => confirmCells(ctx.prisma, actor(ctx), args.cells, args.asGroup === true),
  },
};

export const policy: Policy = {
  "Query.reviewLabels": CASE_READERS,
  "Query.reviewPolicy": CASE_READERS,
  "Mutation.reclassifyCell": ["HEMATOLOGIST"],
  "Mutation.confirmCells": ["HEMATOLOGIST"],
};
