// Retraining with the real model code: a tiny run on a snapshot of signed-out labels completes,
// registers a CANDIDATE evaluated on the locked TEST part beside the champion; another run is
// cancelled while it trains.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BlobStore, type ModelVersion, type User } from "@rcmnet/db";
import { createTestDatabase, signCaseForTest, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthUser } from "../../context.ts";
import { createDatasetSnapshot } from "../../modules/training/createDatasetSnapshot.ts";
import { startTrainingRun } from "../../modules/training/startTrainingRun.ts";
import { cancelTrainingRun } from "../../modules/training/cancelTrainingRun.ts";
import { compareModels } from "../../modules/models/compareModels.ts";
import { pairEvaluations } from "../../modules/models/pairedComparison.ts";
import { cachedEvaluation } from "../model/evaluateOnSnapshot.ts";
import { itemOrderSha256 } from "../model/itemCalls.ts";
import { silentLogger } from "../logger.ts";
import { ClassifierCache } from "../model/classifierCache.ts";
import { getModelRuntime, synthCellCrops } from "../model/modelRuntime.ts";
import type { ModelRuntime } from "../model/runtime.ts";
import { startWorker, type RunningWorker } from "../runWorker.ts";
import { runModelDir } from "../reconcileTrainingRuns.ts";
import { registerTestModel } from "../testing/registerTestModel.ts";
import { tinyModelDir } from "../testing/tinyModel.ts";
import { createHandlers } from "./index.ts";

let db: TestDatabase;
let dataDir: string;
let blobs: BlobStore;
let runtime: ModelRuntime;
let ds: AuthUser;
let champion: ModelVersion;
let worker: RunningWorker;
/** The training run's progress each time a classifier predicted (the TEST evaluations). */
const progressAtPredict: { modelDir: string; status: string; progress: number }[] = [];

const asActor = (u: User): AuthUser => ({
  id: u.id,
  login: u.login,
  displayName: u.displayName,
  role: u.role,
});

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "rcmnet-train-"));
  blobs = new BlobStore(join(dataDir, "blobs"));
  // The real runtime, with each prediction noting how far the RUNNING run's page says it is.
  const real = await getModelRuntime();
  runtime = {
    ...real,
    async loadClassifier(modelDir) {
      const loaded = await real.loadClassifier(modelDir);
      return {
        ...loaded,
        async predict(crops, options) {
          const running = await db.prisma.trainingRun.findFirst({ where: { status: "RUNNING" } });
          if (running) progressAtPredict.push({ modelDir, status: running.status, progress: running.progress });
          return loaded.predict(crops, options);
        },
      };
    },
  };
  champion = await registerTestModel(db.prisma, await tinyModelDir(1), "CHAMPION");
  const tech = await db.prisma.user.create({
    data: { login: "tech", displayName: "T", role: "TECHNICIAN", passwordHash: "x" },
  });
  const hema = await db.prisma.user.create({
    data: { login: "hema", displayName: "H", role: "HEMATOLOGIST", passwordHash: "x" },
  });
  ds = asActor(
    await db.prisma.user.create({
      data: { login: "ds", displayName: "D", role: "DATA_SCIENTIST", passwordHash: "x" },
    }),
  );

  // Three signed-out cases (three patients: snapshots split by patient, so one each for TRAIN,
  // TEST and VAL) whose cells are synthetic crops labelled by the hematologist.
  const slides = [];
  for (const n of [1, 2, 3]) {
    const kase = await db.prisma.case.create({
      // Signed once its cells are decided (below): a signed case takes no new cells or decisions.
      // A patient each: a case without one would be learned from only (TRAIN).
      data: { accession: `TR-${n}`, status: "IN_REVIEW", createdById: tech.id, patientRef: `TR-PATIENT-${n}` },
    });
    slides.push(
      await db.prisma.slide.create({
        data: {
          caseId: kase.id,
          imageSha256: String(n).repeat(64),
          mimeType: "image/png",
          byteSize: 1,
          width: 1,
          height: 1,
          analysisStatus: "DONE",
          uploadedById: tech.id,
        },
      }),
    );
  }
  const crops = await synthCellCrops({ perClass: 10, size: 64, seed: 3, classes: champion.labels });
  for (const [i, crop] of crops.entries()) {
    const cell = await db.prisma.cell.create({
      data: {
        slideId: slides[i % 3]!.id,
        x: i,
        y: 0,
        width: 64,
        height: 64,
        cropSha256: await blobs.put(crop.bytes),
        currentLabel: crop.label,
        reviewCount: 1,
      },
    });
    await db.prisma.review.create({
      data: { cellId: cell.id, seq: 1, reviewerId: hema.id, action: "CONFIRM", label: crop.label },
    });
  }
  for (const k of await db.prisma.case.findMany({ where: { accession: { in: ["TR-1", "TR-2", "TR-3"] } } })) await signCaseForTest(db.prisma, k.id, { signerId: hema.id });
  worker = startWorker({
    prisma: db.prisma,
    blobs,
    dataDir,
    log: silentLogger,
    pollMs: 50,
    handlers: createHandlers({ runtime, classifiers: new ClassifierCache(runtime, dataDir) }),
  });
}, 180_000);
afterAll(async () => {
  await worker?.stop();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 150_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const finished = (runId: string) =>
  until(`run ${runId} to finish`, async () => {
    const run = await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
    return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(run.status) ? run : null;
  });

describe("trainModel", () => {
  it("fine-tunes the champion on a snapshot and registers an evaluated CANDIDATE", async () => {
    const snapshot = await createDatasetSnapshot(db.prisma, ds, { name: "tiny" });
    const run = await startTrainingRun(db.prisma, ds, {
      snapshotId: snapshot.id,
      config: { epochs: 2, frozenEpochs: 1, batchSize: 8 },
    });
    expect(run.baseModelVersionId).toBe(champion.id);
    const done = await finished(run.id);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: "SUCCEEDED", progress: 1 });
    expect(done.log).toMatch(/transfer learning from/);
    expect(done.log).toMatch(/registered CANDIDATE/);

    const model = await db.prisma.modelVersion.findUniqueOrThrow({ where: { trainingRunId: run.id } });
    expect(model).toMatchObject({ status: "CANDIDATE", parentId: champion.id });
    expect(model.labels).toEqual(snapshot.labels);
    // The card says how the snapshot's crops were framed (the worker's cropCells).
    const card = JSON.parse(await readFile(join(dataDir, "models", model.artifactPath, "model-card.json"), "utf8"));
    expect(card.cropContext).toBe(1.3);
    const metrics = model.metrics as {
      history: { epoch: number; trainLoss: number }[];
      test: { count: number; accuracy: number; macroF1: number; confusion: { labels: string[]; matrix: number[][] } };
      champion: { modelVersionId: string; count: number; accuracy: number };
    };
    expect(metrics.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(metrics.history.every((h) => Number.isFinite(h.trainLoss))).toBe(true);
    const testCount = await db.prisma.datasetItem.count({
      where: { snapshotId: snapshot.id, split: "TEST" },
    });
    expect(metrics.test.count).toBe(testCount);
    expect(metrics.test.confusion.matrix.flat().reduce((a, b) => a + b, 0)).toBe(testCount);
    // The champion measured on the very same TEST cells.
    expect(metrics.champion).toMatchObject({ modelVersionId: champion.id, count: testCount });
    // Each TEST cell's call is kept, once (in the evaluations cache, not in the dashboard's copies),
    // for the candidate and the champion, on the same items in the same order: they pair.
    const testIds = await db.prisma.datasetItem.findMany({ where: { snapshotId: snapshot.id, split: "TEST" }, orderBy: { cellId: "asc" }, select: { cellId: true } });
    const own = cachedEvaluation(model, snapshot.id);
    const theirs = cachedEvaluation(await db.prisma.modelVersion.findUniqueOrThrow({ where: { id: champion.id } }), snapshot.id);
    expect(own?.items?.itemsSha256).toBe(itemOrderSha256(testIds.map((i) => i.cellId)));
    expect(theirs?.items?.itemsSha256).toBe(own?.items?.itemsSha256);
    expect(metrics.test).not.toHaveProperty("items");
    expect(metrics.champion).not.toHaveProperty("items");
    const pairing = pairEvaluations(own, theirs);
    if (pairing.status !== "PAIRED") throw new Error(pairing.note);
    const { bothRight, candidateOnlyRight, championOnlyRight, bothWrong } = pairing.paired;
    expect(bothRight + candidateOnlyRight + championOnlyRight + bothWrong).toBe(testCount);
    expect(bothRight + candidateOnlyRight).toBe(Math.round(metrics.test.accuracy * testCount));
    expect(bothRight + championOnlyRight).toBe(Math.round(metrics.champion.accuracy * testCount));
    expect(done.metrics).toEqual(model.metrics);
    // The code it ran: the recipe's defaults live in @rcmnet/model, not in the run's config.
    const modelPackage = JSON.parse(await readFile(new URL("../../../../../packages/model/package.json", import.meta.url), "utf8"));
    const head = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    expect((model.metrics as { codeVersion?: unknown }).codeVersion).toMatchObject({ modelPackage: modelPackage.version, commit: head });
    // Validated on its own VAL part (the snapshot has one): its curves are not in-sample.
    expect((model.metrics as { valIsTrain?: unknown }).valIsTrain).toBe(false);
    // The epoch whose weights were kept, for the run page's marker.
    expect((model.metrics as { card?: { training?: { bestEpoch?: number } } }).card?.training?.bestEpoch).toBeOneOf([1, 2]);
    // The run's page moved on during both TEST evaluations instead of sitting at 85%.
    const candidate = progressAtPredict.filter((p) => p.modelDir.includes(run.id));
    const ofChampion = progressAtPredict.filter((p) => p.modelDir.endsWith(champion.artifactPath));
    expect(candidate.length).toBeGreaterThan(0);
    expect(ofChampion.length).toBeGreaterThan(0);
    expect(Math.min(...candidate.map((p) => p.progress))).toBeGreaterThanOrEqual(0.87);
    expect(Math.min(...ofChampion.map((p) => p.progress))).toBeGreaterThan(Math.max(...candidate.map((p) => p.progress)));

    const audit = await db.prisma.auditEvent.findMany({
      where: { entityId: { in: [run.id, model.id] } },
      orderBy: { seq: "asc" },
    });
    expect(audit.map((a) => a.action)).toEqual([
      "training.start",
      "training.status",
      "model.register",
      "training.status",
    ]);
    // Registered by the system, naming the run, its parent, the weights and the TEST figures.
    const registration = audit.find((a) => a.action === "model.register")!;
    expect(registration.actorLogin).toBe("system");
    expect(registration.after).toEqual({
      name: model.name,
      version: model.version,
      artifactSha256: model.artifactSha256,
      folderSha256: model.folderSha256,
      trainingRunId: run.id,
      parentId: model.parentId,
      testAccuracy: metrics.test.accuracy,
      testMacroF1: metrics.test.macroF1,
    });
    expect(model.parentId).toBe(champion.id);
    // The job closes right after the run (the worker completes it when the handler returns).
    await until(
      "the job to close",
      async () =>
        (await db.prisma.job.findUniqueOrThrow({ where: { dedupeKey: `trainModel:${run.id}` } })).status ===
        "SUCCEEDED",
    );

    // compareModels: both on the same TEST cells, measured the same way (cached evaluations).
    const ctx = { prisma: db.prisma, blobs, env: { dataDir } as never };
    const cmp = await compareModels(ctx, ds, { a: champion.id, b: model.id, snapshotId: snapshot.id });
    expect(cmp.testCount).toBe(testCount);
    expect(cmp.a.modelVersion.id).toBe(champion.id);
    expect(cmp.b!.accuracy).toBe(metrics.test.accuracy);
    // One version alone (no b): its own figures, what a first promotion rests on.
    const alone = await compareModels(ctx, ds, { a: model.id, snapshotId: snapshot.id });
    expect(alone.b).toBeNull();
    expect(alone.a.accuracy).toBe(metrics.test.accuracy);
    expect(alone.testCount).toBe(testCount);
    expect(cmp.a.accuracy).toBe(metrics.champion.accuracy);
    await expect(
      compareModels(ctx, ds, { a: model.id, b: model.id, snapshotId: snapshot.id }),
    ).rejects.toThrow(/two different/);
  }, 180_000);

  /** The champion's model folder registered once more under `name`, with the hashes given. */
  const registerChampionFolderAs = (name: string, hashes: { artifactSha256: string; folderSha256?: string }) =>
    db.prisma.modelVersion.create({
      data: {
        name,
        version: "v1",
        labels: champion.labels,
        inputSize: champion.inputSize,
        normalization: champion.normalization as object,
        architecture: champion.architecture as object,
        metrics: {},
        artifactPath: champion.artifactPath,
        ...hashes,
        status: "CANDIDATE",
      },
    });

  it("refuses to fine-tune a base model whose weights on disk are not the registered ones", async () => {
    const snapshot =
      (await db.prisma.datasetSnapshot.findFirst()) ??
      (await createDatasetSnapshot(db.prisma, ds, { name: "for a swapped base" }));
    // Registered with other weights than its folder now holds (a folder replaced behind the registry).
    const swapped = await registerChampionFolderAs("swapped", { artifactSha256: "f".repeat(64) });
    const run = await startTrainingRun(db.prisma, ds, { snapshotId: snapshot.id, baseModelVersionId: swapped.id, config: { epochs: 1, frozenEpochs: 1, batchSize: 8 } });
    const done = await finished(run.id);
    expect(done.status).toBe("FAILED");
    expect(done.error).toMatch(/base model swapped v1 on disk is not the registered one/);
    expect(await db.prisma.modelVersion.findUnique({ where: { trainingRunId: run.id } })).toBeNull();
  }, 60_000);

  it("refuses to fine-tune a base model whose card or topology changed since registration (same weights)", async () => {
    const snapshot =
      (await db.prisma.datasetSnapshot.findFirst()) ??
      (await createDatasetSnapshot(db.prisma, ds, { name: "for an edited base" }));
    // The champion's folder, registered again with a folder hash other than the files now give.
    const edited = await registerChampionFolderAs("edited", { artifactSha256: champion.artifactSha256, folderSha256: "0".repeat(64) });
    const run = await startTrainingRun(db.prisma, ds, { snapshotId: snapshot.id, baseModelVersionId: edited.id, config: { epochs: 1, frozenEpochs: 1, batchSize: 8 } });
    const done = await finished(run.id);
    expect(done.status).toBe("FAILED");
    expect(done.error).toMatch(/base model edited v1 on disk is not the registered one: its model-card\.json or topology\.json has changed/);
  }, 60_000);

  it("stops a running training when it is cancelled, registering nothing", async () => {
    const snapshot =
      (await db.prisma.datasetSnapshot.findFirst()) ??
      (await createDatasetSnapshot(db.prisma, ds, { name: "for cancel" }));
    const run = await startTrainingRun(db.prisma, ds, {
      snapshotId: snapshot.id,
      config: { epochs: 50, frozenEpochs: 1, batchSize: 4 },
    });
    const started = await until("training to start", async () => {
      const r = await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: run.id } });
      return r.status === "RUNNING" && r.progress > 0.05 ? r : null;
    });
    // Recorded while it runs, not only once a model is registered.
    expect((started.metrics as { codeVersion?: { commit?: unknown } } | null)?.codeVersion?.commit).toEqual(expect.any(String));
    await cancelTrainingRun(db.prisma, ds, { id: run.id, reason: "stopped by the test" }, dataDir);
    const done = await finished(run.id);
    expect(done.status).toBe("CANCELLED");
    expect(done.log).toMatch(/cancelled/);
    expect(await db.prisma.modelVersion.findUnique({ where: { trainingRunId: run.id } })).toBeNull();
    await until(
      "the job to close as cancelled",
      async () =>
        (await db.prisma.job.findUniqueOrThrow({ where: { dedupeKey: `trainModel:${run.id}` } })).status ===
        "CANCELLED",
    );
    // Nothing of it stays on disk: neither the copied crops nor the half-trained weights.
    expect(existsSync(join(dataDir, "runs", run.id))).toBe(false);
    expect(existsSync(join(dataDir, "models", "runs", run.id))).toBe(false);
  }, 180_000);

  it("resumes from its checkpoint when a stopping worker gave the run back", async () => {
    await worker.stop(); // this test runs its own workers
    const makeWorker = () =>
      startWorker({
        prisma: db.prisma,
        blobs,
        dataDir,
        log: silentLogger,
        pollMs: 50,
        shutdownGraceMs: 0,
        handlers: createHandlers({ runtime, classifiers: new ClassifierCache(runtime, dataDir) }),
      });
    const snapshot =
      (await db.prisma.datasetSnapshot.findFirst()) ??
      (await createDatasetSnapshot(db.prisma, ds, { name: "for resume" }));
    // Enough epochs that the stop lands mid-run however fast they are: on the native backend
    // a tiny epoch takes ~0.1 s, and the test's own polling only runs between training steps
    // of the same process (10 epochs had all finished before the stop: 2026-11-26).
    const epochs = 24;
    const run = await startTrainingRun(db.prisma, ds, {
      snapshotId: snapshot.id,
      config: { epochs, frozenEpochs: 1, batchSize: 8 },
    });
    const first = makeWorker();
    await until("the first epoch's checkpoint", async () => {
      const r = await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: run.id } });
      return ((r.metrics as { history?: unknown[] } | null)?.history?.length ?? 0) >= 1;
    });
    await first.stop(); // SIGTERM-like: training aborted, the job handed back
    const job = await db.prisma.job.findUniqueOrThrow({ where: { dedupeKey: `trainModel:${run.id}` } });
    expect(job).toMatchObject({ status: "QUEUED", attempts: 0 });
    expect((await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: run.id } })).status).toBe("RUNNING");
    // What a save killed part way leaves (a worker killed, not stopped): fresh, so no later save of
    // the run clears it as stale; the registered model's folder must not keep it.
    const modelDir = runModelDir(dataDir, run.id);
    await mkdir(join(modelDir, ".saving-4242-deadbeef"), { recursive: true });
    await writeFile(join(modelDir, ".saving-4242-deadbeef", "weights.bin"), "half a model");

    const second = makeWorker();
    try {
      const done = await finished(run.id);
      expect(done.status).toBe("SUCCEEDED");
      // Stopped after its first checkpoint, before the last epoch.
      const resumedAfter = Number(/resumed after epoch (\d+)\b/.exec(done.log ?? "")?.[1]);
      expect(resumedAfter).toBeGreaterThanOrEqual(1);
      expect(resumedAfter).toBeLessThan(epochs);
      const history = (done.metrics as { history: { epoch: number }[] }).history;
      expect(history.map((h) => h.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
      expect(await db.prisma.modelVersion.count({ where: { trainingRunId: run.id } })).toBe(1);
      // The registered folder holds the model: no checkpoint, no killed save's staging folder.
      expect((await readdir(modelDir)).filter((n) => n === "checkpoint" || n.startsWith(".saving-"))).toEqual([]);
      const closed = await until("the job to close", async () => {
        const j = await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
        return j.status === "SUCCEEDED" ? j : null;
      });
      expect(closed.attempts).toBe(1);
    } finally {
      await second.stop();
    }
  }, 180_000);

  it("a worker that lost its job writes no more progress into the run (another worker may be training it)", async () => {
    const own = startWorker({
      prisma: db.prisma,
      blobs,
      dataDir,
      log: silentLogger,
      pollMs: 50,
      // A long lease: the theft below is noticed by the progress writes' guard, not by the lease.
      leaseMs: 60_000,
      heartbeatMs: 30_000,
      shutdownGraceMs: 0,
      handlers: createHandlers({ runtime, classifiers: new ClassifierCache(runtime, dataDir) }),
    });
    const snapshot = (await db.prisma.datasetSnapshot.findFirst()) ?? (await createDatasetSnapshot(db.prisma, ds, { name: "for theft" }));
    const run = await startTrainingRun(db.prisma, ds, { snapshotId: snapshot.id, config: { epochs: 50, frozenEpochs: 1, batchSize: 4 } });
    try {
      await until("training to start", async () => {
        const r = await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: run.id } });
        return r.status === "RUNNING" && r.progress > 0.05 ? r : null;
      });
      // Another worker takes the job over (this one stalled past its lease, say).
      await db.prisma.job.update({ where: { dedupeKey: `trainModel:${run.id}` }, data: { lockedBy: "another-worker" } });
      const taken = await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: run.id } });
      await sleep(2_500); // more than two of the progress writer's periods
      const after = await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: run.id } });
      expect({ progress: after.progress, log: after.log, metrics: after.metrics }).toEqual({ progress: taken.progress, log: taken.log, metrics: taken.metrics });
    } finally {
      // Settled for the tests after this one: the job and the run cancelled as the other worker would.
      await db.prisma.job.update({ where: { dedupeKey: `trainModel:${run.id}` }, data: { status: "CANCELLED", lockedBy: null, finishedAt: new Date() } });
      await own.stop();
      await db.prisma.trainingRun.updateMany({ where: { id: run.id, status: { in: ["QUEUED", "RUNNING"] } }, data: { status: "CANCELLED", finishedAt: new Date() } });
    }
  }, 180_000);
});
