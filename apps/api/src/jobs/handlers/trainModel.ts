// trainModel: transfer learning from the run's base model (the champion when it was started)
// on a dataset snapshot's TRAIN/VAL parts; evaluation of the result and of the current
// champion on the same locked TEST part; registration as a CANDIDATE.
//
// Resumable: checkpoints live in `<dataDir>/models/runs/<runId>/checkpoint`, so a retry after a
// worker was killed continues from the last completed epoch. Cancellable: the handler polls
// TrainingRun.cancelRequested and aborts training through its AbortSignal. No transaction is
// held while the model trains (PGlite serialises connections).
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { Prisma, type DatasetSnapshot, type ModelVersion, type TrainingRun } from "@rcmnet/db";
import { CROP_CONTEXT } from "@rcmnet/model/framing";
import { z } from "zod";
import { parseTrainingConfig } from "../../modules/training/trainingConfig.ts";
import { manifestRows } from "../../modules/training/trainingManifest.ts";
import { PIXEL_KEY_SQL } from "../../modules/training/datasetSplit.ts";
import { snapshotCellsNoLongerHeld } from "../../modules/training/noLongerHeld.ts";
import { staleItemCount } from "../../modules/training/staleItems.ts";
import { createModelVersion } from "../../modules/models/createModelVersion.ts";
import { systemAudit } from "../systemAudit.ts";
import { redactPaths } from "../failureReason.ts";
import { resolveModelDir, unregisteredChange, type LoadedClassifier } from "../model/classifierCache.ts";
import { withoutItemCalls, withoutLeakage, type EvaluationMetrics } from "../model/evaluation.ts";
import { runTestLeakage } from "../model/testLeakage.ts";
import { discardFilesOfRun, removeTrainingLeftovers, runDir, runEnded, runModelDir } from "../reconcileTrainingRuns.ts";
import { evaluateClassifier, evaluateOnSnapshot } from "../model/evaluateOnSnapshot.ts";
import { readCodeVersion, type CodeVersion } from "../model/codeVersion.ts";
import {
  DEFAULT_ABSTAIN_THRESHOLD,
  type EpochMetrics,
  type ModelRuntime,
  type TrainResult,
} from "../model/runtime.ts";
import type { ClassifierCache } from "../model/classifierCache.ts";
import { JobCancelledError, PermanentJobError, type JobContext, type JobHandler } from "../types.ts";

const payloadSchema = z.object({ runId: z.uuid() });
/** How often the cancel flag is read and progress written (training steps are faster). */
const POLL_MS = 1_000;
const MAX_LOG_CHARS = 200_000;

export interface TrainModelDeps {
  runtime: ModelRuntime;
  classifiers: ClassifierCache;
  /** RCMNET_BUILD_COMMIT, for a deployment without .git (codeVersion.ts). */
  buildCommit?: string | undefined;
}

export function trainModelHandler(deps: TrainModelDeps): JobHandler {
  // Read when the worker starts (it builds its handlers then): the code this process loaded.
  const code = readCodeVersion(deps.buildCommit);
  return (ctx) => trainModel(ctx, deps, code);
}

async function trainModel(ctx: JobContext, deps: TrainModelDeps, code: Promise<CodeVersion>): Promise<void> {
  const { prisma, log } = ctx;
  const parsed = payloadSchema.safeParse(ctx.job.payload);
  if (!parsed.success) throw new PermanentJobError("trainModel payload must be { runId: uuid }");
  const run = await prisma.trainingRun.findUnique({ where: { id: parsed.data.runId } });
  if (!run) throw new PermanentJobError(`training run ${parsed.data.runId} not found`);
  if (run.status === "SUCCEEDED" || run.status === "FAILED" || run.status === "CANCELLED") return;

  // Lines not yet written to TrainingRun.log; every write drains it (no line is written twice).
  const logLines: string[] = [];
  const appendLog = (line: string) => logLines.push(`${new Date().toISOString()} ${line}`);
  try {
    // Read before the cancel flag: a model registered by an earlier attempt (whose worker died
    // before closing the run) means the run succeeded (reconcileTrainingRuns.ts); a cancel asked
    // for since cannot undo that, and a CANCELLED run would be the origin of a candidate.
    const produced = await prisma.modelVersion.findUnique({ where: { trainingRunId: run.id } });
    if (produced) {
      await finishRegisteredEarlier(ctx, run, produced, logLines);
      return;
    }
    if (run.cancelRequested) throw new JobCancelledError("cancelled before start");
    await markRunning(ctx, run);
    appendLog(`attempt ${ctx.job.attempts} of ${ctx.job.maxAttempts} on worker ${ctx.workerId}`);
    // In the run's record from its start; each attempt logs its own (a resume may run other code).
    const codeVersion = await code;
    appendLog(`code: @rcmnet/model ${codeVersion.modelPackage}, commit ${codeVersion.commit}${codeVersion.dirty ? " with uncommitted changes" : ""}`);
    await updateRunWhileHeld(ctx, run.id, { metrics: { codeVersion } });

    const config = parseTrainingConfig(run.config);
    const snapshot = await prisma.datasetSnapshot.findUniqueOrThrow({ where: { id: run.snapshotId } });
    // An amendment may have relabelled a cell, voided its image or retracted its case's report
    // since the run was queued: checked when the run was started, read again now.
    await assertLabelsStillHeld(prisma, snapshot);
    const base = run.baseModelVersionId
      ? await prisma.modelVersion.findUniqueOrThrow({ where: { id: run.baseModelVersionId } })
      : null;
    if (base) {
      // Fine-tune the registered model, not whatever now lies in its folder: the new model's
      // parent link would otherwise name a model it did not start from.
      const onDisk = await deps.runtime.inspectModelDir(resolveModelDir(ctx.dataDir, base.artifactPath));
      const change = unregisteredChange(onDisk, base);
      if (change) throw new PermanentJobError(`the base model ${base.name} ${base.version} on disk is not the registered one: ${change}`);
    }
    await ctx.progress(0.01, "preparing data");
    const { manifest, notes, hasVal, uploadedCrops } = await materializeSnapshot(ctx, run.id, snapshot.id);
    for (const note of notes) appendLog(note);
    if (!hasVal) appendLog("the snapshot has no VAL images: validating on TRAIN");
    if (uploadedCrops) appendLog(`${uploadedCrops} training image(s) are single-cell uploads used as given: the model card records no crop framing`);
    // Beside the curves wherever they are stored: the dashboard must not call in-sample figures "val".
    const record = { codeVersion, valIsTrain: !hasVal };
    appendLog(`snapshot ${snapshot.name}: ${snapshot.itemCount} cells, labels ${snapshot.labels.join(", ")}`);
    appendLog(
      base ? `transfer learning from ${base.name} ${base.version}` : "training from scratch (no base model)",
    );

    // Cancellation and lost leases both abort training through one signal.
    const controller = new AbortController();
    const onJobAbort = () => controller.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", onJobAbort);
    let cancelled = false;
    let latest: { progress: number; history: EpochMetrics[]; step: string } = {
      progress: 0,
      history: [],
      step: "training",
    };
    const flush = async () => {
      const fresh = logLines.splice(0, logLines.length);
      await prisma.$executeRaw`
        UPDATE "training_run" SET
          "progress" = ${0.05 + 0.8 * latest.progress}::double precision,
          "metrics" = ${JSON.stringify({ history: latest.history, ...record })}::jsonb,
          "log" = right("log" || ${fresh.map((l) => `${l}\n`).join("")}, ${MAX_LOG_CHARS}::int)
        WHERE "id" = ${run.id}::uuid AND ${whileHeld(ctx)}`;
      await ctx.progress(0.05 + 0.8 * latest.progress, latest.step);
      const flag = await prisma.trainingRun.findUnique({
        where: { id: run.id },
        select: { cancelRequested: true },
      });
      if (flag?.cancelRequested && !controller.signal.aborted) {
        cancelled = true;
        controller.abort("cancelled");
      }
    };
    const poller = setInterval(
      () => void flush().catch((err) => log.warn("training progress write failed", { error: String(err) })),
      POLL_MS,
    );

    const version = run.id.slice(0, 8);
    let result: TrainResult;
    try {
      await mkdir(runDir(ctx.dataDir, run.id), { recursive: true });
      result = await deps.runtime.train({
        manifest,
        labels: snapshot.labels,
        outDir: runModelDir(ctx.dataDir, run.id),
        from: base ? resolveModelDir(ctx.dataDir, base.artifactPath) : undefined,
        name: "rcmnet",
        version: `run-${version}`,
        ...config,
        cropContext: trainingCropContext(uploadedCrops),
        signal: controller.signal,
        onProgress: (p) => {
          latest = { progress: p.progress, history: p.history, step: `epoch ${p.epoch}/${p.epochs}` };
          if (p.message) appendLog(p.message);
        },
      });
    } catch (err) {
      if (cancelled) throw new JobCancelledError("cancelled during training");
      throw err;
    } finally {
      clearInterval(poller);
      ctx.signal.removeEventListener("abort", onJobAbort);
    }
    if (cancelled) throw new JobCancelledError("cancelled during training");
    appendLog(`training finished on backend ${result.backend}`);
    await flush();

    // Evaluation on the locked TEST part: the candidate, and the champion on the same cells. The
    // run's own progress moves too: its page would otherwise sit at 85% through both.
    const step = async (progress: number, name: string) => {
      await ctx.progress(progress, name);
      await updateRunWhileHeld(ctx, run.id, { progress });
    };
    await step(0.87, "evaluating on the TEST part");
    const outDir = runModelDir(ctx.dataDir, run.id);
    const info = await deps.runtime.inspectModelDir(outDir);
    const model = await deps.runtime.loadClassifier(outDir);
    let test: EvaluationMetrics;
    try {
      test = await evaluateLoaded(
        ctx,
        {
          modelVersionId: "candidate",
          model,
          abstainThreshold: info.abstainThreshold ?? DEFAULT_ABSTAIN_THRESHOLD,
        },
        snapshot.id,
      );
    } finally {
      model.dispose();
    }
    // What this run learned from (its snapshot's TRAIN and VAL, and its base model's lineage) may
    // hold TEST patients: a snapshot split per cell (rule v1), or a case linked to another patient since.
    test = { ...test, leakage: await runTestLeakage(prisma, run, snapshot.id) };
    const champion = await prisma.modelVersion.findFirst({ where: { status: "CHAMPION" } });
    let championTest: EvaluationMetrics | null = null;
    if (champion) {
      await step(0.91, "evaluating the champion on the TEST part");
      try {
        championTest = await evaluateOnSnapshot(
          { prisma, blobs: ctx.blobs, classifiers: deps.classifiers, actor: null },
          champion,
          snapshot.id,
          {
            signal: ctx.signal,
          },
        );
      } catch (err) {
        appendLog(`champion evaluation failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    appendLog(
      `TEST accuracy ${test.accuracy.toFixed(3)} macro-F1 ${test.macroF1.toFixed(3)}` +
        (championTest
          ? ` (champion: ${championTest.accuracy.toFixed(3)} / ${championTest.macroF1.toFixed(3)})`
          : ""),
    );
    await step(0.95, "registering the candidate");

    const metrics = {
      ...record,
      snapshotId: snapshot.id,
      // Each cell's calls are kept once, in the evaluations cache (the candidate's below, the
      // champion's in its own metrics), not again in these copies for the dashboard.
      test: withoutItemCalls(test),
      history: result.history,
      // Flat, like `test`, so the dashboard reads both the same way.
      champion: champion && championTest ? { modelVersionId: champion.id, ...withoutItemCalls(championTest) } : null,
      evaluations: { [snapshot.id]: withoutLeakage(test) },
      card: info.metrics,
    } as unknown as Prisma.InputJsonObject;
    const registered = await prisma.$transaction(async (tx) => {
      const existing = await tx.modelVersion.findUnique({ where: { trainingRunId: run.id } });
      if (existing) return existing;
      // A cancel that arrived after training ended (during the evaluation) still wins: read
      // under a row lock, so a cancel and a registration cannot both land.
      const [now] = await tx.$queryRaw<{ cancelRequested: boolean }[]>`
        SELECT "cancelRequested" FROM "training_run" WHERE "id" = ${run.id}::uuid FOR UPDATE`;
      if (now?.cancelRequested) throw new JobCancelledError("cancelled before registration");
      // And once more in the registering transaction: an amendment during the hours of training
      // must not leave behind a candidate that learned, or was scored on, a label since withdrawn.
      // One that commits after this read is like any later amendment: the model is registered,
      // and a proposal of it is refused while its TEST part holds a withdrawn label.
      await assertLabelsStillHeld(tx, snapshot);
      return createModelVersion(
        tx,
        null,
        {
          info,
          artifactPath: relative(join(ctx.dataDir, "models"), outDir),
          // Named after its run: unique, and traceable from the registry to the run.
          version: `run-${version}`,
          metrics,
          parentId: base?.id ?? null,
          trainingRunId: run.id,
        },
        { trainingRunId: run.id, parentId: base?.id ?? null, testAccuracy: test.accuracy, testMacroF1: test.macroF1 },
      );
    });
    await finishSucceeded(ctx, run, registered, logLines, { backend: result.backend });
    log.info("training run succeeded", { jobId: ctx.job.id, runId: run.id, modelVersionId: registered.id });
  } catch (err) {
    if (err instanceof JobCancelledError) {
      await finishCancelled(ctx, run.id, logLines);
      throw err;
    }
    await recordFailure(ctx, run.id, err, logLines);
    throw err;
  }
}

/**
 * The condition of every write into a run during training: the run is RUNNING and this worker
 * still holds its job. One that lost the job must not rewrite a run another worker now trains, or
 * one settled meanwhile.
 */
function whileHeld(ctx: JobContext): Prisma.Sql {
  return Prisma.sql`"status" = 'RUNNING'
    AND EXISTS (SELECT 1 FROM "job" WHERE "id" = ${ctx.job.id}::uuid AND "lockedBy" = ${ctx.workerId} AND "status" = 'RUNNING')`;
}

/** Sets the run's progress and merges `metrics` into its metrics, while held (whileHeld). */
async function updateRunWhileHeld(
  ctx: JobContext,
  runId: string,
  change: { progress?: number; metrics?: Record<string, unknown> },
): Promise<void> {
  await ctx.prisma.$executeRaw`
    UPDATE "training_run" SET
      "progress" = coalesce(${change.progress ?? null}::double precision, "progress"),
      "metrics" = (CASE WHEN jsonb_typeof("metrics") = 'object' THEN "metrics" ELSE '{}'::jsonb END) || ${JSON.stringify(change.metrics ?? {})}::jsonb
    WHERE "id" = ${runId}::uuid AND ${whileHeld(ctx)}`;
}

async function markRunning(ctx: JobContext, run: TrainingRun): Promise<void> {
  await ctx.prisma.$transaction(async (tx) => {
    const moved = await tx.trainingRun.updateMany({
      where: { id: run.id, status: "QUEUED" },
      data: { status: "RUNNING", startedAt: new Date() },
    });
    if (moved.count === 1) {
      await systemAudit(tx, {
        action: "training.status",
        entityType: "TrainingRun",
        entityId: run.id,
        before: { status: "QUEUED" },
        after: { status: "RUNNING" },
      });
    }
  });
}

/**
 * Fails the run (for good: a snapshot never changes, a retry would meet the same labels) when a
 * cell of its snapshot no longer holds the label it was frozen with. The rule startTrainingRun
 * refuses a run by (staleItems.ts), worded as it is.
 */
async function assertLabelsStillHeld(
  db: Pick<Prisma.TransactionClient, "$queryRaw">,
  snapshot: Pick<DatasetSnapshot, "id" | "name">,
): Promise<void> {
  const stale = await staleItemCount(db, snapshot.id);
  if (stale > 0) {
    throw new PermanentJobError(`${snapshotCellsNoLongerHeld(stale, snapshot.name)}: take a new snapshot and train again`);
  }
}

/**
 * Closes a run whose model an earlier attempt registered. A cancel requested since came too late:
 * said in the log and the audit event, so the request is answered rather than silently dropped.
 */
async function finishRegisteredEarlier(ctx: JobContext, run: TrainingRun, model: ModelVersion, logLines: string[]): Promise<void> {
  const at = () => new Date().toISOString();
  logLines.push(`${at()} attempt ${ctx.job.attempts}: an earlier attempt registered the model before its worker stopped`);
  if (!run.cancelRequested) return finishSucceeded(ctx, run, model, logLines);
  const reason = "cancel requested after the model was registered: the run succeeded";
  logLines.push(`${at()} ${reason}; the candidate serves nowhere unless a promotion of it is approved`);
  await finishSucceeded(ctx, run, model, logLines, { reason });
}

async function finishSucceeded(
  ctx: JobContext,
  run: TrainingRun,
  model: ModelVersion,
  logLines: string[],
  extra: { backend?: string; reason?: string } = {},
): Promise<void> {
  await ctx.prisma.$transaction(async (tx) => {
    const done = await tx.trainingRun.updateMany({
      where: { id: run.id, status: { in: ["QUEUED", "RUNNING"] } },
      data: {
        status: "SUCCEEDED",
        progress: 1,
        finishedAt: new Date(),
        metrics: model.metrics as Prisma.InputJsonObject,
        error: null,
        ...(extra.backend ? { backend: extra.backend } : {}),
      },
    });
    logLines.push(`${new Date().toISOString()} registered CANDIDATE ${model.name} ${model.version}`);
    await appendRunLog(tx, run.id, logLines, { ending: done.count === 1 });
    if (done.count === 1) {
      await systemAudit(tx, {
        action: "training.status",
        entityType: "TrainingRun",
        entityId: run.id,
        before: { status: "RUNNING" },
        after: { status: "SUCCEEDED", modelVersionId: model.id },
        reason: extra.reason ?? null,
      });
    }
  });
  // The materialised crops, the resume checkpoint and a killed save's leftovers are not part of the registered model.
  await rm(join(runDir(ctx.dataDir, run.id), "data"), { recursive: true, force: true });
  await removeTrainingLeftovers(runModelDir(ctx.dataDir, run.id));
}

async function finishCancelled(ctx: JobContext, runId: string, logLines: string[]): Promise<void> {
  await ctx.prisma.$transaction(async (tx) => {
    const done = await tx.trainingRun.updateMany({
      where: { id: runId, status: { in: ["QUEUED", "RUNNING"] } },
      data: { status: "CANCELLED", finishedAt: new Date() },
    });
    logLines.push(`${new Date().toISOString()} cancelled`);
    await appendRunLog(tx, runId, logLines, { ending: done.count === 1 });
    if (done.count === 1) {
      await systemAudit(tx, {
        action: "training.status",
        entityType: "TrainingRun",
        entityId: runId,
        after: { status: "CANCELLED" },
        reason: "cancel requested",
      });
    }
  });
  await discardFilesOfRun(ctx.prisma, ctx.dataDir, runId);
}

async function recordFailure(
  ctx: JobContext,
  runId: string,
  err: unknown,
  logLines: string[],
): Promise<void> {
  if (ctx.signal.aborted) {
    // Lost lease or shutdown: another attempt will continue, unless the run was settled meanwhile
    // (the reconciler found its job ended): then this worker's last checkpoint is nobody's.
    const run = await ctx.prisma.trainingRun.findUnique({ where: { id: runId }, select: { status: true } });
    if (run && runEnded(run.status)) await discardFilesOfRun(ctx.prisma, ctx.dataDir, runId);
    return;
  }
  // Shown to every reader of the run: server paths are the operator's business, not theirs.
  const message = redactPaths(err instanceof Error ? err.message : String(err)).slice(0, 1000);
  const final = err instanceof PermanentJobError || ctx.job.attempts >= ctx.job.maxAttempts;
  await ctx.prisma
    .$transaction(async (tx) => {
      logLines.push(
        `${new Date().toISOString()} ${final ? "failed" : "attempt failed, will retry"}: ${message}`,
      );
      await appendRunLog(tx, runId, logLines);
      if (!final) return;
      const done = await tx.trainingRun.updateMany({
        where: { id: runId, status: { in: ["QUEUED", "RUNNING"] } },
        data: { status: "FAILED", finishedAt: new Date(), error: message },
      });
      if (done.count === 1) {
        await systemAudit(tx, {
          action: "training.status",
          entityType: "TrainingRun",
          entityId: runId,
          after: { status: "FAILED", error: message },
        });
      }
    })
    .catch(() => undefined);
  // Kept while a retry may resume from the checkpoint; gone once no attempt is left.
  if (final) await discardFilesOfRun(ctx.prisma, ctx.dataDir, runId).catch(() => undefined);
}

/**
 * Appends to a run's log while it is queued or running, or in the transaction that ends it
 * (`ending`). A run settled earlier (the reconciler ended it after this worker's job was reaped)
 * is frozen by the database (training_run_ended): this worker's late lines are not its record.
 */
async function appendRunLog(tx: Prisma.TransactionClient, runId: string, lines: string[], { ending = false } = {}): Promise<void> {
  const text = lines
    .splice(0, lines.length)
    .map((l) => `${l}\n`)
    .join("");
  if (!text) return;
  await tx.$executeRaw`
    UPDATE "training_run" SET "log" = right("log" || ${text}, ${MAX_LOG_CHARS}::int)
    WHERE "id" = ${runId}::uuid AND (${ending} OR "status" IN ('QUEUED', 'RUNNING'))`;
}

/**
 * The crop framing a model card records for its training images: the worker's cropCells framing
 * (CROP_CONTEXT) when it cut them all from fields; none (null, as for a pre-cropped public dataset)
 * when any is a single-cell upload, which is used as the lab cropped it (analyzeSlide.ts).
 */
function trainingCropContext(uploadedCrops: number): number | null {
  return uploadedCrops > 0 ? null : CROP_CONTEXT;
}

/**
 * Writes the snapshot's TRAIN and VAL crops as files with a manifest.csv (split,label,path), the
 * layout every @rcmnet/model loader reads. The TEST part is never written here: it cannot leak
 * into training. `uploadedCrops`: the images written that are a CROP slide's upload itself.
 */
async function materializeSnapshot(
  ctx: JobContext,
  runId: string,
  snapshotId: string,
): Promise<{ manifest: string; notes: string[]; hasVal: boolean; uploadedCrops: number }> {
  const dir = join(runDir(ctx.dataDir, runId), "data");
  // With each cell's pixel key, so the same pixels under other bytes (a crop re-saved at another
  // PNG compression, in TRAIN for one patient and VAL for another) are one image, as snapshots
  // see them across the TEST line (datasetSplit.ts).
  const items = await ctx.prisma.$queryRaw<{ cellId: string; label: string; split: "TRAIN" | "VAL"; cropSha256: string; pixelKey: string | null; uploaded: boolean }[]>`
    SELECT i."cellId"::text AS "cellId", i."label", i."split"::text AS "split", i."cropSha256", ${PIXEL_KEY_SQL} AS "pixelKey",
      s."kind" = 'CROP' AS "uploaded"
    FROM "dataset_item" i
    JOIN "cell" c ON c."id" = i."cellId"
    JOIN "slide" s ON s."id" = c."slideId"
    WHERE i."snapshotId" = ${snapshotId}::uuid AND i."split" IN ('TRAIN', 'VAL')
    ORDER BY i."cellId" ASC`;
  // One row per image (an image may be the crop of cells of several cases): trainingManifest.ts.
  const { rows, notes } = manifestRows(items.map((i) => ({ ...i, split: i.split === "TRAIN" ? "TRAIN" : "VAL" })));
  const uploaded = new Set(items.filter((i) => i.uploaded).map((i) => i.cropSha256));
  await mkdir(dir, { recursive: true });
  const lines = ["split,label,path"];
  for (const row of rows) {
    const file = `${row.cropSha256}.png`;
    // Read through the blob store (sha256 verified), never straight from its files.
    await writeFile(join(dir, file), await ctx.blobs.get(row.cropSha256));
    lines.push(`${row.split},${csvField(row.label)},${file}`);
  }
  const hasVal = rows.some((r) => r.split === "val");
  if (!hasVal) {
    // A very small snapshot can have no VAL cells: validate on TRAIN (model selection is then
    // optimistic, which the log says, and no temperature is fitted) rather than touch the locked
    // TEST part.
    for (const row of rows) lines.push(`val,${csvField(row.label)},${row.cropSha256}.png`);
  }
  const manifest = join(dir, "manifest.csv");
  await writeFile(manifest, `${lines.join("\n")}\n`);
  return { manifest, notes, hasVal, uploadedCrops: rows.filter((r) => uploaded.has(r.cropSha256)).length };
}

/**
 * Evaluates a classifier that is not registered yet (no cache), each item's call kept as for the
 * champion's, and every class of the model given a row as evaluateOnSnapshot gives it: one the TEST
 * part lacks is listed as untested, not dropped from the candidate's figures.
 */
async function evaluateLoaded(
  ctx: JobContext,
  classifier: LoadedClassifier,
  snapshotId: string,
): Promise<EvaluationMetrics> {
  return evaluateClassifier({ prisma: ctx.prisma, blobs: ctx.blobs }, classifier, snapshotId, classifier.model.labels);
}

/** A CSV field, quoted when it holds a comma, a quote or a line break (labels are names, but not ours to trust). */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
