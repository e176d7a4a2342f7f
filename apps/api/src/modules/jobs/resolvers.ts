import type { Policy } from "../../auth/policy.ts";
import { CASE_READERS } from "../../auth/roles.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { jobErrorForReaders } from "../../jobs/failureReason.ts";
import { caseAnalysisProgress, slideAnalysis } from "./slideAnalysis.ts";

export const resolvers: Resolvers = {
  Query: {
    slideAnalysis: (_p, args, ctx) => slideAnalysis(ctx.prisma, args.slideId),
    caseAnalysisProgress: (_p, args, ctx) => caseAnalysisProgress(ctx.prisma, args.caseId),
  },
  // A job's stored error is the worker's full message (for its log): readers get where to look.
  JobProgress: {
    error: (j) => (j.error ? jobErrorForReaders(j.id, j.status === "FAILED") : null),
  },
};

/** Everyone who may read a case may watch its analysis (technicians wait on it after upload). */
export const policy: Policy = {
  "Query.slideAnalysis": CASE_READERS,
  "Query.caseAnalysisProgress": CASE_READERS,
};
