import type { DatasetSnapshot, TrainingRun } from "@rcmnet/db";
import type { Policy } from "../../auth/policy.ts";
import type { Context } from "../../context.ts";
import { actor } from "../../lib/actor.ts";
import type { PageArgs } from "../../lib/pagination.ts";
import { cancelTrainingRun } from "./cancelTrainingRun.ts";
import { createDatasetSnapshot } from "./createDatasetSnapshot.ts";
import { getDatasetSnapshot, listDatasetSnapshots, snapshotCounts } from "./listDatasetSnapshots.ts";
import { getTrainingRun, listTrainingRuns } from "./listTrainingRuns.ts";
import { startTrainingRun } from "./startTrainingRun.ts";

type R<A = Record<string, never>, P = unknown> = (parent: P, args: A, ctx: Context) => unknown;

export const resolvers: {
  Query: Record<string, R<any>>;
  Mutation: Record<string, R<any>>;
  DatasetSnapshot: Record<string, R<any, DatasetSnapshot>>;
  TrainingRun: Record<string, R<any, TrainingRun>>;
} = {
  Query: {
    datasetSnapshots: (_p, args: PageArgs, ctx) => listDatasetSnapshots(ctx.prisma, args),
    datasetSnapshot: (_p, args: { id: string }, ctx) => getDatasetSnapshot(ctx.prisma, args.id),
    trainingRuns: (_p, args: PageArgs, ctx) => listTrainingRuns(ctx.prisma, args),
    trainingRun: (_p, args: { id: string }, ctx) => getTrainingRun(ctx.prisma, args.id),
  },
  Mutation: {
    createDatasetSnapshot: (_p, args: { name: string }, ctx) => createDatasetSnapshot(ctx.prisma, actor(ctx), args),
    startTrainingRun: (_p, args: { snapshotId: string; config?: unknown; baseModelVersionId?: string | null }, ctx) =>
      startTrainingRun(ctx.prisma, actor(ctx), args),
    cancelTrainingRun: (_p, args: { id: string }, ctx) => cancelTrainingRun(ctx.prisma, actor(ctx), args.id),
  },
  DatasetSnapshot: {
    splitCounts: async (s, _a, ctx) => (await snapshotCounts(ctx.prisma, s.id)).splitCounts,
    labelCounts: async (s, _a, ctx) => (await snapshotCounts(ctx.prisma, s.id)).labelCounts,
    createdBy: (s, _a, ctx) => ctx.loaders.userById.load(s.createdById),
  },
  TrainingRun: {
    snapshot: (r, _a, ctx) => ctx.prisma.datasetSnapshot.findUniqueOrThrow({ where: { id: r.snapshotId } }),
    baseModel: (r, _a, ctx) =>
      r.baseModelVersionId ? ctx.prisma.modelVersion.findUnique({ where: { id: r.baseModelVersionId } }) : null,
    startedBy: (r, _a, ctx) => ctx.loaders.userById.load(r.startedById),
    producedModel: (r, _a, ctx) => ctx.prisma.modelVersion.findUnique({ where: { trainingRunId: r.id } }),
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
