import type { Policy } from "../../auth/policy.ts";
import { CASE_READERS } from "../../auth/roles.ts";
import type { Context } from "../../context.ts";
import { caseAnalysisProgress, slideAnalysis } from "./slideAnalysis.ts";

export const resolvers = {
  Query: {
    slideAnalysis: (_p: unknown, args: { slideId: string }, ctx: Context) => slideAnalysis(ctx.prisma, args.slideId),
    caseAnalysisProgress: (_p: unknown, args: { caseId: string }, ctx: Context) =>
      caseAnalysisProgress(ctx.prisma, args.caseId),
  },
};

/** Everyone who may read a case may watch its analysis (technicians wait on it after upload). */
export const policy: Policy = {
  "Query.slideAnalysis": CASE_READERS,
  "Query.caseAnalysisProgress": CASE_READERS,
};
