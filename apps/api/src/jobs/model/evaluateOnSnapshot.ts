// Evaluates a registered model on a dataset snapshot's locked TEST part. Used by training runs
// (candidate and champion side by side) and by compareModels; results are cached in the model
// version's metrics under `evaluations[snapshotId]` (a snapshot never changes, nor do weights).
import type { BlobStore, ModelVersion, Prisma, PrismaClient } from "@rcmnet/db";
import type { ClassifierCache, LoadedClassifier } from "./classifierCache.ts";
import { currentEvaluation, evaluatePredictions, withModelClasses, withoutLeakage, type EvaluationMetrics } from "./evaluation.ts";
import { testLeakage } from "./testLeakage.ts";

const BATCH = 32;

export async function evaluateOnSnapshot(
  deps: { prisma: PrismaClient; blobs: BlobStore; classifiers: ClassifierCache },
  version: ModelVersion,
  snapshotId: string,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => Promise<void> | void } = {},
): Promise<EvaluationMetrics> {
  // Recomputed every time (one query): a case linked to another patient since changes it.
  const leakage = await testLeakage(deps.prisma, version.id, snapshotId);
  const cached = cachedEvaluation(version, snapshotId);
  if (cached) return { ...cached, leakage };
  const metrics = {
    // Every class of the model gets a row: one the TEST part lacks is listed as untested, not dropped.
    ...(await deps.classifiers.use(version, (classifier) => evaluateClassifier(deps, classifier, snapshotId, version.labels, options))),
    leakage,
  };
  await storeEvaluation(deps.prisma, version.id, snapshotId, withoutLeakage(metrics));
  return metrics;
}

/**
 * A loaded classifier on a snapshot's TEST part, with each item's call (`items`): for a
 * registered version (above) and for a training run's model before it is registered. The items
 * are read in one order (cell id), the order their calls are kept in and hashed by.
 */
export async function evaluateClassifier(
  deps: { prisma: PrismaClient; blobs: BlobStore },
  classifier: LoadedClassifier,
  snapshotId: string,
  modelLabels: readonly string[],
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => Promise<void> | void } = {},
): Promise<EvaluationMetrics> {
  const items = await deps.prisma.datasetItem.findMany({
    where: { snapshotId, split: "TEST" },
    orderBy: { cellId: "asc" },
    select: { cellId: true, label: true, cropSha256: true },
  });
  const predicted: { label: string; abstained: boolean }[] = [];
  for (let i = 0; i < items.length; i += BATCH) {
    options.signal?.throwIfAborted();
    const batch = items.slice(i, i + BATCH);
    const crops = await Promise.all(batch.map((it) => deps.blobs.get(it.cropSha256)));
    const out = await classifier.model.predict(crops, { abstainThreshold: classifier.abstainThreshold });
    predicted.push(...out.map((p) => ({ label: p.label, abstained: p.abstained })));
    await options.onProgress?.(Math.min(items.length, i + BATCH), items.length);
  }
  return evaluatePredictions(
    items.map((it) => it.label),
    predicted,
    modelLabels,
    items.map((it) => it.cellId),
  );
}

/** The version's stored evaluation on a snapshot's TEST part, if any. */
export function cachedEvaluation(version: ModelVersion, snapshotId: string): EvaluationMetrics | null {
  const m = version.metrics as { evaluations?: Record<string, EvaluationMetrics> } | null;
  const stored = m?.evaluations?.[snapshotId];
  // Macro-F1 read from the stored confusion matrix: one definition for evaluations stored before
  // it counted the classes only the model predicted, and for those after. A row for each class
  // of the model, as for a fresh evaluation (stored before there were rows for untested classes,
  // or by a training run, which evaluates before the model is registered).
  return stored ? currentEvaluation(withModelClasses(stored, version.labels)) : null;
}

/** jsonb_set in one statement: concurrent evaluations of other snapshots are not lost. */
async function storeEvaluation(
  prisma: PrismaClient,
  id: string,
  snapshotId: string,
  metrics: Omit<EvaluationMetrics, "leakage">,
) {
  const value = JSON.stringify(metrics as unknown as Prisma.InputJsonValue);
  await prisma.$executeRaw`
    UPDATE "model_version"
    SET "metrics" = jsonb_set(
      CASE WHEN jsonb_typeof("metrics") = 'object' THEN "metrics" ELSE '{}'::jsonb END
        || jsonb_build_object('evaluations', COALESCE("metrics"->'evaluations', '{}'::jsonb)),
      ARRAY['evaluations', ${snapshotId}], ${value}::jsonb)
    WHERE "id" = ${id}::uuid`;
}
