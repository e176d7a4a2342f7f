import { servedMetrics } from "../../jobs/model/evaluation.ts";
import type { Policy } from "../../auth/policy.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { actor } from "../../lib/actor.ts";
import { notFound } from "../../errors.ts";
import { compareModels } from "./compareModels.ts";
import { decidePromotion } from "./decidePromotion.ts";
import { lostClasses, promotionEvidence } from "./promotionEvidence.ts";
import { getChampion, getModelVersion, listModelVersions } from "./listModelVersions.ts";
import { listModelPromotions } from "./listModelPromotions.ts";
import { proposePromotion } from "./proposePromotion.ts";
import { proposeRollback } from "./proposeRollback.ts";
import { registerModel } from "./registerModel.ts";
import { repredictionOf } from "./reprediction.ts";
import { rerunReprediction } from "./rerunReprediction.ts";
import { testSetOf } from "./testSet.ts";

export const resolvers: Resolvers = {
  Query: {
    modelVersions: (_p, args, ctx) => listModelVersions(ctx.prisma, args),
    modelVersion: (_p, args, ctx) => getModelVersion(ctx.prisma, args.id),
    championModel: (_p, _a, ctx) => getChampion(ctx.prisma),
    modelPromotions: (_p, args, ctx) => listModelPromotions(ctx.prisma, args),
    compareModels: (_p, args, ctx) => compareModels(ctx, actor(ctx), args),
  },
  Mutation: {
    registerModel: (_p, args, ctx) => registerModel(ctx, actor(ctx), args.path),
    proposePromotion: (_p, args, ctx) => proposePromotion(ctx, actor(ctx), args),
    decidePromotion: (_p, args, ctx) => decidePromotion(ctx.prisma, ctx.env.dataDir, actor(ctx), args),
    proposeRollback: (_p, args, ctx) => proposeRollback(ctx.prisma, actor(ctx), args),
    rerunReprediction: (_p, args, ctx) => rerunReprediction(ctx.prisma, actor(ctx), args),
  },
  ModelVersion: {
    metrics: (v) => servedMetrics(v.metrics ?? {}),
    parent: (v, _a, ctx) =>
      v.parentId ? ctx.prisma.modelVersion.findUnique({ where: { id: v.parentId } }) : null,
    trainingRun: (v, _a, ctx) =>
      v.trainingRunId ? ctx.prisma.trainingRun.findUnique({ where: { id: v.trainingRunId } }) : null,
    promotions: (v, _a, ctx) =>
      ctx.prisma.modelPromotion.findMany({
        where: { modelVersionId: v.id },
        orderBy: { proposedAt: "desc" },
      }),
    predictionCount: (v, _a, ctx) => ctx.prisma.prediction.count({ where: { modelVersionId: v.id } }),
    testSet: (v, _a, ctx) => testSetOf(ctx.prisma, v),
    reprediction: (v, _a, ctx) => repredictionOf(ctx.prisma, v),
  },
  ModelPromotion: {
    modelVersion: (p, _a, ctx) =>
      ctx.prisma.modelVersion.findUniqueOrThrow({ where: { id: p.modelVersionId } }),
    proposedBy: async (p, _a, ctx) =>
      (await ctx.loaders.userById.load(p.proposedById)) ?? Promise.reject(notFound("User")),
    decidedBy: (p, _a, ctx) => (p.decidedById ? ctx.loaders.userById.load(p.decidedById) : null),
    evidence: (p, _a, ctx) => promotionEvidence(ctx.prisma, p),
    lostClasses: (p, _a, ctx) => lostClasses(ctx.prisma, p),
  },
};

const READERS = ["DATA_SCIENTIST", "ADMIN", "AUDITOR"] as const;

export const policy: Policy = {
  "Query.modelVersions": READERS,
  "Query.modelVersion": READERS,
  "Query.championModel": READERS,
  "Query.modelPromotions": READERS,
  // Runs two models: not for the read-only AUDITOR, who reads stored metrics instead.
  "Query.compareModels": ["DATA_SCIENTIST", "ADMIN"],
  "Mutation.registerModel": ["DATA_SCIENTIST"],
  "Mutation.proposePromotion": ["DATA_SCIENTIST"],
  "Mutation.decidePromotion": ["ADMIN"],
  // An ADMIN may also propose a rollback in an emergency; another person must still approve it.
  "Mutation.proposeRollback": ["DATA_SCIENTIST", "ADMIN"],
  // Runs what a champion change already approved, for the model serving now: no second person.
  "Mutation.rerunReprediction": ["DATA_SCIENTIST", "ADMIN"],
};
