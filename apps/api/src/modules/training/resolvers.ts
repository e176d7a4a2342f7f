import { servedMetrics } from "../../jobs/model/evaluation.ts";
import type { Policy } from "../../auth/policy.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { actor } from "../../lib/actor.ts";
import { notFound } from "../../errors.ts";
import { cancelTrainingRun } from "./cancelTrainingRun.ts";
import { createDatasetSnapshot } from "./createDatasetSnapshot.ts";
import { getDatasetSnapshot, listDatasetSnapshots, snapshotCounts, splitSummaryOf } from "./listDatasetSnapshots.ts";
import { getTrainingRun, listTrainingRuns } from "./listTrainingRuns.ts";
import { relabelledSince, startTrainingRun } from "./startTrainingRun.ts";
import { runWatch } from "./runWatch.ts";

const userOrFail = async (load: Promise<import("@rcmnet/db").User | null>) =>
  (await load) ?? Promise.reject(notFound("User"));

export const resolvers: Resolvers = {
  Query: {
    datasetSnapshots: (_p, args, ctx) => listDatasetSnapshots(ctx.prisma, args),
    datasetSnapshot: (_p, args, ctx) => getDatasetSnapshot(ctx.prisma, args.id),
    trainingRuns: (_p, args, ctx) => listTrainingRuns(ctx.prisma, args),
    trainingRun: (_p, args, ctx) => getTrainingRun(ctx.prisma, args.id),
  },
  Mutation: {
    createDatasetSnapshot: (_p, args, ctx) => createDatasetSnapshot(ctx.prisma, actor(ctx), args),
    startTrainingRun: (_p, args, ctx) => startTrainingRun(ctx.prisma, actor(ctx), args, ctx.env.limits),
    cancelTrainingRun: (_p, args, ctx) => cancelTrainingRun(ctx.prisma, actor(ctx), args, ctx.env.dataDir),
  },
  DatasetSnapshot: {
    splitCounts: async (s, _a, ctx) => (await snapshotCounts(ctx.prisma, s.id)).splitCounts,
    labelCounts: async (s, _a, ctx) => (await snapshotCounts(ctx.prisma, s.id)).labelCounts,
    patientCounts: (s) => splitSummaryOf(s)?.patients ?? null,
    heldOutCells: (s) => splitSummaryOf(s)?.heldOutCells ?? null,
    casesWithoutPatient: (s) => splitSummaryOf(s)?.casesWithoutPatient ?? null,
    casesLeftOutWithoutPatient: (s) => splitSummaryOf(s)?.casesLeftOutWithoutPatient ?? null,
    cellsLeftOutWithoutPatient: (s) => splitSummaryOf(s)?.cellsLeftOutWithoutPatient ?? null,
    relabelledSince: (s, _a, ctx) => relabelledSince(ctx.prisma, s.id),
    createdBy: (s, _a, ctx) => userOrFail(ctx.loaders.userById.load(s.createdById)),
    reused: (s) => s.reused === true,
  },
  TrainingRun: {
    metrics: (r) => servedMetrics(r.metrics),
    snapshot: (r, _a, ctx) => ctx.prisma.datasetSnapshot.findUniqueOrThrow({ where: { id: r.snapshotId } }),
    baseModel: (r, _a, ctx) =>
      r.baseModelVersionId
        ? ctx.prisma.modelVersion.findUnique({ where: { id: r.baseModelVersionId } })
        : null,
    startedBy: (r, _a, ctx) => userOrFail(ctx.loaders.userById.load(r.startedById)),
    producedModel: (r, _a, ctx) => ctx.prisma.modelVersion.findUnique({ where: { trainingRunId: r.id } }),
    waitingForWorkerSince: async (r, _a, ctx) => (await runWatch(ctx.prisma, r)).waitingForWorkerSince,
    queuedBehind: async (r, _a, ctx) => (await runWatch(ctx.prisma, r)).queuedBehind,
    stalledSince: async (r, _a, ctx) => (await runWatch(ctx.prisma, r)).stalledSince,
  },
};

const READERS = ["DATA_SCIENTIST", "ADMIN", "AUDITOR"] as const;

export const policy: Policy = {
  "Query.datasetSnapshots": READERS,
  "Query.datasetSnapshot": READERS,
  "Query.trainingRuns": READERS,
  "Query.trainingRun": READERS,
  "Mutation.createDatasetSnapshot": ["DATA_SCIENTIST"],
  "Mutation.startTrainingRun": ["DATA_SCIENTIST"],
  "Mutation.cancelTrainingRun": ["DATA_SCIENTIST"],
};
