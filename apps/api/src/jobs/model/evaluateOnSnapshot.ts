// Evaluates a registered model on a dataset snapshot's locked TEST part. Used by training runs
// (candidate and champion side by side) and by compareModels; results are cached in the model
// version's metrics under `evaluations[snapshotId]` (a snapshot never changes, nor do weights).
import type { BlobStore, ModelVersion, Prisma, PrismaClient } from "@rcmnet/db";
import type { ClassifierCache, LoadedClassifier } from "./classifierCache.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import type { AuthUser } from "../../context.ts";
import { currentEvaluation, evaluatePredictions, withModelClasses, withoutItemCalls, withoutLeakage, type EvaluationMetrics } from "./evaluation.ts";
import { testLeakage } from "./testLeakage.ts";

const BATCH = 32;

type AuditActor = Pick<AuthUser, "id" | "login">;

export async function evaluateOnSnapshot(
  /** `actor`: whom the stored result's audit event names (null: the system, a training run). */
  deps: { prisma: PrismaClient; blobs: BlobStore; classifiers: ClassifierCache; actor: AuditActor | null },
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
  await storeEvaluation(deps.prisma, deps.actor, version.id, snapshotId, withoutLeakage(metrics));
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

/**
 * jsonb_set in one statement: concurrent evaluations of other snapshots are not lost. Audited in
 * the same transaction (`model.evaluate`): these cached figures are what a promotion proposal
 * later freezes, so their writing is a change of record, even when a query (compareModels) made it.
 */
async function storeEvaluation(
  prisma: PrismaClient,
  actor: AuditActor | null,
  id: string,
  snapshotId: string,
  metrics: Omit<EvaluationMetrics, "leakage">,
) {
  const value = JSON.stringify(metrics as unknown as Prisma.InputJsonValue);
  await prisma.$transaction(async (tx) => {
    // Locked: the evaluation replaced (one stored meanwhile by a concurrent comparison) is the one recorded as `before`.
    const [row] = await tx.$queryRaw<{ stored: Prisma.JsonValue }[]>`
      SELECT "metrics"->'evaluations'->${snapshotId} AS "stored" FROM "model_version" WHERE "id" = ${id}::uuid FOR UPDATE`;
    await tx.$executeRaw`
      UPDATE "model_version"
      SET "metrics" = jsonb_set(
        CASE WHEN jsonb_typeof("metrics") = 'object' THEN "metrics" ELSE '{}'::jsonb END
          || jsonb_build_object('evaluations', COALESCE("metrics"->'evaluations', '{}'::jsonb)),
        ARRAY['evaluations', ${snapshotId}], ${value}::jsonb)
      WHERE "id" = ${id}::uuid`;
    await recordAudit(tx, actor, {
      action: "model.evaluate",
      entityType: "ModelVersion",
      entityId: id,
      before: row?.stored ? auditedEvaluation(snapshotId, row.stored as unknown as Omit<EvaluationMetrics, "leakage">) : null,
      after: auditedEvaluation(snapshotId, metrics),
    });
  });
}

/** An evaluation as its audit event keeps it: the figures, and instead of each cell's call the hash of the cells' order. */
function auditedEvaluation(snapshotId: string, metrics: Omit<EvaluationMetrics, "leakage">): Prisma.InputJsonObject {
  return { snapshotId, ...withoutItemCalls(metrics), itemsSha256: metrics.items?.itemsSha256 ?? null } as unknown as Prisma.InputJsonObject;
}
