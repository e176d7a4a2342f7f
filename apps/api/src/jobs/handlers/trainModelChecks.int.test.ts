// What the trainModel worker checks around the training itself, with a stand-in runtime (no
// network is trained; trainModel.int.test.ts trains real ones): a snapshot whose labels went stale
// after the run was queued (an amendment relabelled a cell, voided its image) fails the run, before
// training or before registration, registering nothing; a run whose model an earlier attempt
// registered finishes SUCCEEDED even when a cancel came since.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CROP_CONTEXT } from "@rcmnet/model/framing";
import { signCaseForTest } from "@rcmnet/db/testing";
import type { AuthUser } from "../../context.ts";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { createDatasetSnapshot } from "../../modules/training/createDatasetSnapshot.ts";
import { startTrainingRun } from "../../modules/training/startTrainingRun.ts";
import { insertCaseWithCells, insertModelVersion } from "../testing/fixtures.ts";
import { runJobs } from "../testing/runJobs.ts";
import type { EvaluationMetrics } from "../model/evaluation.ts";
import type { CellClassifier, ModelDirInfo, ModelRuntime, TrainRequest } from "../model/runtime.ts";

const LABELS = ["car_t", "lymphocyte", "neutrophil"];
const NO_LONGER_HOLDS = "no longer holds the label it was frozen with (relabelled by an amendment, its image voided, or its case's report retracted)";
const NO_LONGER_HOLD = "no longer hold the label they were frozen with (relabelled by an amendment, their image voided, or their case's report retracted)";

let api: TestApi;
let ds: AuthUser;
let techId: string;
let hemaId: string;

beforeAll(async () => {
  api = await createTestApi();
  const asActor = ({ user }: Awaited<ReturnType<TestApi["createUser"]>>): AuthUser => ({ id: user.id, login: user.login, displayName: user.displayName, role: user.role });
  ds = asActor(await api.createUser("DATA_SCIENTIST"));
  techId = (await api.createUser("TECHNICIAN")).user.id;
  hemaId = (await api.createUser("HEMATOLOGIST")).user.id;
});
afterAll(async () => {
  await api?.close();
});

/**
 * A runtime that "trains" by writing an empty model folder (after `duringTraining`, where a test
 * amends a case) and whose model, of the classes `labels`, calls every crop the first class.
 */
function standInRuntime(duringTraining: () => Promise<void> = async () => undefined, labels: string[] = LABELS) {
  const trained: TrainRequest[] = [];
  const classifier = (labels: string[]): CellClassifier => ({
    labels,
    async predict(crops) {
      return crops.map(() => ({ label: labels[0]!, probabilities: {}, confidence: 0.9, abstained: false }));
    },
    async explain() {
      return new Uint8Array();
    },
    dispose() {},
  });
  const runtime = {
    async train(request: TrainRequest) {
      trained.push(request);
      await duringTraining();
      await mkdir(request.outDir, { recursive: true });
      return { history: [{ epoch: 1, trainLoss: 0.5, trainAccuracy: 0.5 }], backend: "stand-in" };
    },
    async inspectModelDir(dir: string): Promise<ModelDirInfo> {
      const hash = (s: string) => createHash("sha256").update(s).digest("hex");
      return { name: "stand-in", version: "v", labels, inputSize: 32, normalization: {}, architecture: {}, metrics: {}, weightsSha256: hash(dir), folderSha256: hash(`${dir}/folder`), cropContext: 1.3 };
    },
    async loadClassifier() {
      return classifier(labels);
    },
  } as unknown as ModelRuntime;
  return { runtime, trained };
}

/** Six signed-out patients with a cell of each class (crops in the blob store), and a snapshot of them. */
async function snapshotOfNewPatients(name: string) {
  for (let p = 0; p < 6; p++) {
    const cells = [];
    for (const label of LABELS) cells.push({ reviews: [label], cropSha256: await api.blobs.put(Buffer.from(`${name} ${p} ${label}`)) });
    await insertCaseWithCells(api.prisma, { createdById: techId, reviewerId: hemaId, status: "SIGNED_OUT", patientRef: `MRN-${name}-${p}`, cells });
  }
  return createDatasetSnapshot(api.prisma, ds, { name });
}

/** A cell of the snapshot's TRAIN part, with its slide and case. */
async function trainCellOf(snapshotId: string) {
  const item = await api.prisma.datasetItem.findFirstOrThrow({ where: { snapshotId, split: "TRAIN" }, orderBy: { cellId: "asc" } });
  const cell = await api.prisma.cell.findUniqueOrThrow({ where: { id: item.cellId }, include: { slide: true } });
  return { item, cell };
}

/** An amendment reopens the case (a signed case's cells and slides do not change), then changes it. */
async function amend(caseId: string, change: () => Promise<unknown>) {
  await api.prisma.case.update({ where: { id: caseId }, data: { status: "IN_REVIEW" } });
  await change();
}

const queue = (snapshotId: string) => startTrainingRun(api.prisma, ds, { snapshotId, config: { epochs: 2 } });
const work = (runtime: ModelRuntime) => runJobs({ prisma: api.prisma, blobs: api.blobs, dataDir: api.env.dataDir, runtime, types: ["trainModel"] });
const outcome = async (runId: string) => ({
  run: await api.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } }),
  job: await api.prisma.job.findUniqueOrThrow({ where: { dedupeKey: `trainModel:${runId}` } }),
  model: await api.prisma.modelVersion.findUnique({ where: { trainingRunId: runId } }),
});

describe("trainModel's checks", () => {
  it("registers the candidate of a run whose snapshot still holds its labels (the stand-in trains)", async () => {
    const snapshot = await snapshotOfNewPatients("unchanged");
    const run = await queue(snapshot.id);
    const { runtime, trained } = standInRuntime();
    await work(runtime);
    const { run: done, job, model } = await outcome(run.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe("SUCCEEDED");
    expect(job.status).toBe("SUCCEEDED");
    expect(trained).toHaveLength(1);
    expect(model).toMatchObject({ status: "CANDIDATE" });
    // Every image cut from a field by the worker's cropCells: the card records that framing.
    expect(trained[0]!.cropContext).toBe(CROP_CONTEXT);
  });

  it("fails a run whose snapshot went stale while it was queued (an image voided), before training", async () => {
    const snapshot = await snapshotOfNewPatients("voided while queued");
    const run = await queue(snapshot.id);
    const { cell } = await trainCellOf(snapshot.id);
    await amend(cell.slide.caseId, () =>
      api.prisma.slide.update({ where: { id: cell.slideId }, data: { voidedAt: new Date(), voidedById: hemaId, voidReason: "another patient's smear" } }),
    );
    const { runtime, trained } = standInRuntime();
    await work(runtime);
    const { run: done, job, model } = await outcome(run.id);
    // The voided slide holds the patient's cell of each class.
    expect(done).toMatchObject({ status: "FAILED", error: `3 cells of snapshot ${snapshot.name} ${NO_LONGER_HOLD}: take a new snapshot and train again` });
    expect(job.status).toBe("FAILED");
    expect(trained).toEqual([]);
    expect(model).toBeNull();
    // The same rule, in the same words, refuses to queue another run on it (nothing written).
    const runs = await api.prisma.trainingRun.count();
    await expect(queue(snapshot.id)).rejects.toThrow(`3 cells of snapshot ${snapshot.name} ${NO_LONGER_HOLD}: take a new snapshot, so the model learns`);
    expect(await api.prisma.trainingRun.count()).toBe(runs);
  });

  it("fails a run whose snapshot went stale while it trained (a cell relabelled), registering nothing", async () => {
    const snapshot = await snapshotOfNewPatients("relabelled while training");
    const run = await queue(snapshot.id);
    const { item, cell } = await trainCellOf(snapshot.id);
    const { runtime, trained } = standInRuntime(() =>
      amend(cell.slide.caseId, () => api.prisma.cell.update({ where: { id: cell.id }, data: { currentLabel: LABELS.find((l) => l !== item.label)! } })),
    );
    await work(runtime);
    const { run: done, job, model } = await outcome(run.id);
    expect(trained).toHaveLength(1);
    expect(done).toMatchObject({ status: "FAILED", error: `1 cell of snapshot ${snapshot.name} ${NO_LONGER_HOLDS}: take a new snapshot and train again` });
    expect(job.status).toBe("FAILED");
    expect(model).toBeNull();
    expect(await api.prisma.auditEvent.count({ where: { action: "model.register" } })).toBe(1); // the first test's only
    // Its would-be model's folder goes with the run.
    expect(existsSync(join(api.env.dataDir, "models", "runs", run.id))).toBe(false);
  });

  it("finishes SUCCEEDED a run whose model an earlier attempt registered, answering a cancel asked for since", async () => {
    const snapshot = await snapshotOfNewPatients("registered, then cancelled");
    const run = await queue(snapshot.id);
    // Attempt 1 registered the model, a cancel was asked for while its worker lived, then that
    // worker died before closing the run: the job is handed back to the queue for a retry. (A
    // cancel asked for now ends such a run at once: cancelTrainingRun.int.test.ts.)
    await api.prisma.trainingRun.update({ where: { id: run.id }, data: { status: "RUNNING", startedAt: new Date(), cancelRequested: true } });
    const registered = await insertModelVersion(api.prisma, { trainingRunId: run.id, labels: LABELS });

    const { runtime, trained } = standInRuntime();
    await work(runtime);
    const { run: done, job, model } = await outcome(run.id);
    // A registered model means SUCCEEDED (reconcileTrainingRuns.ts), however the run ended.
    expect(done).toMatchObject({ status: "SUCCEEDED", progress: 1, cancelRequested: true });
    expect(job.status).toBe("SUCCEEDED");
    expect(model?.id).toBe(registered.id);
    expect(trained).toEqual([]);
    expect(done.log).toMatch(/cancel requested after the model was registered: the run succeeded/);
    const status = await api.prisma.auditEvent.findMany({ where: { entityId: run.id, action: "training.status" } });
    expect(status.map((e) => ({ after: e.after, reason: e.reason }))).toEqual([
      { after: { status: "SUCCEEDED", modelVersionId: registered.id }, reason: "cancel requested after the model was registered: the run succeeded" },
    ]);
  });

  it("lists the same pixels under other bytes once in the manifest, trained on only when a copy is in VAL", async () => {
    // A database of its own: the first three patients placed go to TRAIN, TEST and VAL.
    const own = await createTestApi();
    try {
      const tech = (await own.createUser("TECHNICIAN")).user.id;
      const hema = (await own.createUser("HEMATOLOGIST")).user.id;
      const actor = (await own.createUser("DATA_SCIENTIST")).user;
      // Three patients each have a case holding the same crop re-saved under other bytes (the same
      // slide pixels, the same box: one pixel key) signed lymphocyte, and a case of images of their
      // own of the other classes.
      for (let p = 0; p < 3; p++) {
        const patientRef = `MRN-PX-${p}`;
        const crop = async (label: string) => ({ reviews: [label], cropSha256: await own.blobs.put(Buffer.from(`same pixels ${p} ${label}`)) });
        const { case: kase, slide } = await insertCaseWithCells(own.prisma, { createdById: tech, reviewerId: hema, status: "IN_REVIEW", patientRef, cells: [await crop("lymphocyte")] });
        await own.prisma.slide.update({ where: { id: slide.id }, data: { pixelSha256: "f".repeat(64) } });
        await signCaseForTest(own.prisma, kase.id, { signerId: hema });
        await insertCaseWithCells(own.prisma, { createdById: tech, reviewerId: hema, status: "SIGNED_OUT", patientRef, cells: [await crop("car_t"), await crop("neutrophil")] });
      }
      const snapshot = await createDatasetSnapshot(own.prisma, { id: actor.id, login: actor.login, displayName: actor.displayName, role: actor.role }, { name: "same pixels" });
      const items = await own.prisma.datasetItem.findMany({ where: { snapshotId: snapshot.id } });
      // Its TEST copy is held out (learned from in TRAIN and VAL); the TRAIN and VAL copies stay.
      expect(items.filter((i) => i.label === "lymphocyte").map((i) => i.split).sort()).toEqual(["TRAIN", "VAL"]);
      await startTrainingRun(own.prisma, { id: actor.id, login: actor.login, displayName: actor.displayName, role: actor.role }, { snapshotId: snapshot.id, config: { epochs: 2 } });
      let manifest = "";
      const stand = standInRuntime(async () => {
        manifest = await readFile(stand.trained[0]!.manifest, "utf8");
      });
      await runJobs({ prisma: own.prisma, blobs: own.blobs, dataDir: own.env.dataDir, runtime: stand.runtime, types: ["trainModel"] });
      const rows = manifest.trim().split("\n").slice(1).map((l) => l.split(",").slice(0, 2).join(","));
      expect(rows.sort()).toEqual(["train,car_t", "train,lymphocyte", "train,neutrophil", "val,car_t", "val,neutrophil"]);
      const run = await own.prisma.trainingRun.findFirstOrThrow({ where: { snapshotId: snapshot.id } });
      expect(run.status).toBe("SUCCEEDED");
      expect(run.log).toMatch(/1 image\(s\) in both TRAIN and VAL trained on only/);
    } finally {
      await own.close();
    }
  });

  it("gives the candidate's TEST figures a row for each class the TEST part lacks, and no crop framing to a model trained on uploaded crops", async () => {
    // A database of its own: its first three patients go one to each of TRAIN, TEST and VAL.
    const own = await createTestApi();
    try {
      const tech = (await own.createUser("TECHNICIAN")).user.id;
      const hema = (await own.createUser("HEMATOLOGIST")).user.id;
      const user = (await own.createUser("DATA_SCIENTIST")).user;
      const actor = { id: user.id, login: user.login, displayName: user.displayName, role: user.role };
      const crop = async (label: string, n: number) => ({ reviews: [label], cropSha256: await own.blobs.put(Buffer.from(`${label} ${n}`)) });
      for (let p = 0; p < 3; p++) {
        const cells = [await crop("car_t", p), await crop("lymphocyte", p)];
        await insertCaseWithCells(own.prisma, { createdById: tech, reviewerId: hema, status: "SIGNED_OUT", patientRef: `MRN-UNTESTED-${p}`, cells });
      }
      // Parts are sticky: a later case of the TRAIN patient joins TRAIN. Its basophils are the
      // snapshot's only ones, so the class is trained on and has no TEST cell.
      const first = await createDatasetSnapshot(own.prisma, actor, { name: "before the basophils" });
      const trainItem = await own.prisma.datasetItem.findFirstOrThrow({ where: { snapshotId: first.id, split: "TRAIN" } });
      const { slide: trainSlide } = await own.prisma.cell.findUniqueOrThrow({ where: { id: trainItem.cellId }, include: { slide: { include: { case: true } } } });
      const { case: kase } = await insertCaseWithCells(own.prisma, {
        createdById: tech,
        reviewerId: hema,
        status: "IN_REVIEW",
        patientRef: trainSlide.case.patientRef,
        cells: [await crop("basophil", 1), await crop("basophil", 2)],
      });
      // And a single-cell upload (a CROP slide: its one cell is the uploaded image, framed by the lab).
      const uploaded = await own.blobs.put(Buffer.from("an uploaded crop"));
      const slide = await own.prisma.slide.create({
        data: { caseId: kase.id, kind: "CROP", imageSha256: uploaded, mimeType: "image/png", byteSize: 1, width: 64, height: 64, analysisStatus: "DONE", uploadedById: tech },
      });
      const cell = await own.prisma.cell.create({
        data: { slideId: slide.id, x: 0, y: 0, width: 64, height: 64, cropSha256: uploaded, currentLabel: "car_t", reviewCount: 1 },
      });
      await own.prisma.review.create({ data: { cellId: cell.id, seq: 1, reviewerId: hema, action: "CONFIRM", label: "car_t" } });
      await signCaseForTest(own.prisma, kase.id, { signerId: hema });
      const snapshot = await createDatasetSnapshot(own.prisma, actor, { name: "untested basophils" });
      const tested = new Set((await own.prisma.datasetItem.findMany({ where: { snapshotId: snapshot.id, split: "TEST" } })).map((i) => i.label));
      expect([...tested].sort()).toEqual(["car_t", "lymphocyte"]);
      expect(snapshot.labels).toContain("basophil");
      await startTrainingRun(own.prisma, actor, { snapshotId: snapshot.id, config: { epochs: 2 } });
      // The candidate has the snapshot's classes, as a trained one would.
      const stand = standInRuntime(undefined, snapshot.labels);
      await runJobs({ prisma: own.prisma, blobs: own.blobs, dataDir: own.env.dataDir, runtime: stand.runtime, types: ["trainModel"] });
      const run = await own.prisma.trainingRun.findFirstOrThrow({ where: { snapshotId: snapshot.id } });
      expect(run.error).toBeNull();
      expect(run.status).toBe("SUCCEEDED");
      const { test } = (await own.prisma.modelVersion.findUniqueOrThrow({ where: { trainingRunId: run.id } })).metrics as unknown as { test: EvaluationMetrics };
      expect(test.untestedLabels).toEqual(["basophil"]);
      expect(test.perClass.basophil?.support).toBe(0);
      expect(test.confusion.labels).toEqual([...snapshot.labels].sort());
      // The upload is among its training images: the card cannot say how they were all framed.
      expect(stand.trained[0]!.cropContext).toBeNull();
      expect(run.log).toMatch(/1 training image\(s\) are single-cell uploads used as given: the model card records no crop framing/);
    } finally {
      await own.close();
    }
  });
});
