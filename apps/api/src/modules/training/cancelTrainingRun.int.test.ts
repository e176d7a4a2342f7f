// Cancelling a running training run whose worker died or hangs (its job's lease expired by the
// database's clock) through the GraphQL API: it ends at once, its job cancelled so no worker takes
// it again, instead of waiting for a living worker to reap and retry it. A run whose worker holds a
// live lease is only flagged, as before. And the worker that was only hanging: when it comes back
// it registers nothing and leaves the cancelled run as the cancel left it. The job's state is driven
// by the queue's own calls (claimJob, heartbeat); times moved back by hand stand for time passing.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Role } from "@rcmnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trainingKey } from "../../jobs/analysisJobs.ts";
import { trainModelHandler } from "../../jobs/handlers/trainModel.ts";
import { silentLogger } from "../../jobs/logger.ts";
import { ClassifierCache } from "../../jobs/model/classifierCache.ts";
import type { CellClassifier, ModelDirInfo, ModelRuntime, TrainRequest } from "../../jobs/model/runtime.ts";
import { claimJob, heartbeat, reapExpiredLeases } from "../../jobs/queue.ts";
import { reconcileTrainingRuns } from "../../jobs/reconcileTrainingRuns.ts";
import { insertCaseWithCells, insertModelVersion } from "../../jobs/testing/fixtures.ts";
import type { JobContext } from "../../jobs/types.ts";
import { createTestApi, type TestApi } from "../../testing/index.ts";

const LABELS = ["car_t", "lymphocyte", "neutrophil"];

let api: TestApi;
let tokens: Record<Role, string>;
let snapshotId: string;

beforeAll(async () => {
  api = await createTestApi();
  tokens = await api.loginAsEveryRole();
  // Six signed-out patients with a cell of each class, crops in the blob store (a worker reads them).
  const tech = await api.createUser("TECHNICIAN");
  const hema = await api.createUser("HEMATOLOGIST");
  for (let p = 0; p < 6; p++) {
    const cells = [];
    for (const label of LABELS) cells.push({ reviews: [label], cropSha256: await api.blobs.put(Buffer.from(`cancel ${p} ${label}`)) });
    await insertCaseWithCells(api.prisma, { createdById: tech.user.id, reviewerId: hema.user.id, status: "SIGNED_OUT", patientRef: `MRN-CANCEL-${p}`, cells });
  }
  snapshotId = (await api.gqlOk(tokens.DATA_SCIENTIST, `mutation { createDatasetSnapshot(name: "cancel") { id } }`)).createDatasetSnapshot.id;
});
afterAll(async () => {
  await api?.close();
});

const START = `mutation($snapshotId: ID!) { startTrainingRun(snapshotId: $snapshotId, config: { epochs: 2 }) { id status } }`;
const CANCEL = `mutation($id: ID!, $reason: String!) { cancelTrainingRun(id: $id, reason: $reason) { id status cancelRequested finishedAt } }`;
const codeOf = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;

const start = async () => (await api.gqlOk(tokens.DATA_SCIENTIST, START, { snapshotId })).startTrainingRun.id as string;
const jobOf = (runId: string) => api.prisma.job.findUniqueOrThrow({ where: { dedupeKey: trainingKey(runId) } });
const runOf = (runId: string) => api.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
const eventsOf = (runId: string) => api.prisma.auditEvent.findMany({ where: { entityId: runId }, orderBy: { seq: "asc" } });
const claimAs = (workerId: string) => claimJob(api.prisma, { workerId, types: ["trainModel"], leaseMs: 30_000 });
/** Its worker's last renewal `seconds` ago, by the database's clock. */
const lastRenewed = (jobId: string, seconds: number) =>
  api.prisma.$executeRaw`UPDATE "job" SET "heartbeatAt" = CURRENT_TIMESTAMP - ${seconds} * interval '1 second' WHERE id = ${jobId}::uuid`;

/** A run a worker took and trains (RUNNING), with what a training leaves on disk. */
async function runningRun(workerId: string) {
  const runId = await start();
  const job = await claimAs(workerId);
  expect(job?.id).toBe((await jobOf(runId)).id);
  await api.prisma.trainingRun.update({ where: { id: runId }, data: { status: "RUNNING", startedAt: new Date() } });
  const files = [join(api.env.dataDir, "runs", runId, "data"), join(api.env.dataDir, "models", "runs", runId, "checkpoint")];
  for (const dir of files) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "x.png"), "crop");
  }
  return { runId, jobId: job!.id, files };
}

describe("cancelling a running training run", () => {
  it("ends at once a run whose job's lease has expired (its worker died), its job cancelled so no worker takes it again", async () => {
    const { runId, jobId, files } = await runningRun("worker-killed");
    // 40 s without a renewal: past the workers' 30 s lease, as the reaper judges it (the page calls
    // it stalled only 90 s later; the cancel need not wait for that).
    await lastRenewed(jobId, 40);

    // Bad input first: refused, nothing changed, the job still the dead worker's.
    const before = { run: await runOf(runId), job: await jobOf(runId), events: await eventsOf(runId) };
    const refused = await api.gql(tokens.DATA_SCIENTIST, CANCEL, { id: runId, reason: " \n " });
    expect(codeOf(refused)).toBe("BAD_USER_INPUT");
    expect(codeOf(await api.gql(tokens.AUDITOR, CANCEL, { id: runId, reason: "not needed" }))).toBe("FORBIDDEN");
    expect({ run: await runOf(runId), job: await jobOf(runId), events: await eventsOf(runId) }).toEqual(before);

    const cancelled = (await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: runId, reason: "its worker was killed" })).cancelTrainingRun;
    expect(cancelled).toMatchObject({ status: "CANCELLED", cancelRequested: true });
    expect(cancelled.finishedAt).not.toBeNull();
    const job = await jobOf(runId);
    expect(job).toMatchObject({ status: "CANCELLED", lockedBy: null, heartbeatAt: null });
    expect(job.finishedAt).not.toBeNull();
    expect(job.error).toBe("training run cancelled after worker worker-killed stopped renewing its lease");
    // Neither taken back by a living worker's reaper nor claimed again.
    expect(await reapExpiredLeases(api.prisma, 30_000)).toBe(0);
    expect(await claimAs("worker-alive")).toBeNull();
    expect((await jobOf(runId)).status).toBe("CANCELLED");

    const events = (await eventsOf(runId)).slice(before.events.length).map((e) => ({ action: e.action, before: e.before, after: e.after, reason: e.reason }));
    expect(events).toEqual([
      { action: "training.status", before: null, after: { status: "CANCELLED" }, reason: "cancelled after its worker stopped renewing its job's lease" },
      { action: "training.cancel", before: { status: "RUNNING" }, after: { status: "CANCELLED", cancelRequested: true }, reason: "its worker was killed" },
    ]);
    for (const dir of files) expect(existsSync(dir), dir).toBe(false);
    // No longer blocks the next run.
    const next = await start();
    expect((await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: next, reason: "only to free the queue" })).cancelTrainingRun.status).toBe("CANCELLED");
  });

  it("settles SUCCEEDED a run whose model was registered before its worker's lease expired", async () => {
    const { runId, jobId } = await runningRun("worker-after-registering");
    const model = await insertModelVersion(api.prisma, { trainingRunId: runId, labels: LABELS });
    await lastRenewed(jobId, 45);
    const answered = (await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: runId, reason: "its worker died" })).cancelTrainingRun;
    expect(answered).toMatchObject({ status: "SUCCEEDED", cancelRequested: true });
    expect((await jobOf(runId)).status).toBe("CANCELLED");
    const status = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: runId, action: "training.status" } });
    expect(status.after).toEqual({ status: "SUCCEEDED", modelVersionId: model.id });
  });

  it("only flags a run whose worker holds a live lease: that worker stops it", async () => {
    const { runId, jobId, files } = await runningRun("worker-alive");
    expect(await heartbeat(api.prisma, jobId, "worker-alive")).toBe(true);
    // 20 s since its renewal: within the lease (a slow renewal, not a dead worker).
    await lastRenewed(jobId, 20);
    const flagged = (await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: runId, reason: "wrong recipe" })).cancelTrainingRun;
    expect(flagged).toMatchObject({ status: "RUNNING", cancelRequested: true, finishedAt: null });
    expect(await jobOf(runId)).toMatchObject({ status: "RUNNING", lockedBy: "worker-alive" });
    expect(await heartbeat(api.prisma, jobId, "worker-alive")).toBe(true);
    for (const dir of files) expect(existsSync(dir), dir).toBe(true);
    expect(await api.prisma.auditEvent.count({ where: { entityId: runId, action: "training.status" } })).toBe(0);
    // A second cancel is refused, as before.
    expect(codeOf(await api.gql(tokens.DATA_SCIENTIST, CANCEL, { id: runId, reason: "again" }))).toBe("CONFLICT");

    // Its worker stops it (as the handler does), for the next test's run.
    await api.prisma.job.update({ where: { id: jobId }, data: { status: "CANCELLED", finishedAt: new Date(), lockedBy: null } });
    expect(await reconcileTrainingRuns(api.prisma, api.env.dataDir)).toBe(1);
    expect((await runOf(runId)).status).toBe("CANCELLED");
  });

  it("ends at once a run handed back to the queue after its worker stopped (a living worker reaped its lease), CANCELLED or SUCCEEDED by its model", async () => {
    for (const registered of [false, true]) {
      const { runId, jobId, files } = await runningRun(`worker-reaped-${registered}`);
      const model = registered ? await insertModelVersion(api.prisma, { trainingRunId: runId, labels: LABELS }) : null;
      // Reaped: the job queued again (after its backoff), the run still RUNNING, nobody holding it.
      await lastRenewed(jobId, 40);
      expect(await reapExpiredLeases(api.prisma, 30_000)).toBe(1);
      expect(await jobOf(runId)).toMatchObject({ status: "QUEUED", lockedBy: null });
      const answered = (await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: runId, reason: "its worker was killed" })).cancelTrainingRun;
      expect(answered).toMatchObject({ status: registered ? "SUCCEEDED" : "CANCELLED", cancelRequested: true });
      expect((await jobOf(runId)).status).toBe("CANCELLED");
      expect(await claimAs("worker-alive")).toBeNull();
      const status = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: runId, action: "training.status" } });
      expect(status).toMatchObject({
        after: registered ? { status: "SUCCEEDED", modelVersionId: model!.id } : { status: "CANCELLED" },
        reason: "cancelled while handed back to the queue after its worker stopped",
      });
      for (const dir of files) expect(existsSync(dir), dir).toBe(false);
    }
  });

  it("ends, when asked again, a run whose cancel was asked for while its worker lived and whose worker stopped before acting on it", async () => {
    const { runId, jobId, files } = await runningRun("worker-dies-after-cancel");
    await lastRenewed(jobId, 5);
    const flagged = (await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: runId, reason: "wrong snapshot" })).cancelTrainingRun;
    expect(flagged).toMatchObject({ status: "RUNNING", cancelRequested: true });
    // Its worker dies before it stops the run: nobody is left to act on that request.
    await lastRenewed(jobId, 40);
    const ended = (await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: runId, reason: "its worker died before stopping it" })).cancelTrainingRun;
    expect(ended).toMatchObject({ status: "CANCELLED", cancelRequested: true });
    expect((await jobOf(runId)).status).toBe("CANCELLED");
    for (const dir of files) expect(existsSync(dir), dir).toBe(false);
    const cancels = (await eventsOf(runId)).filter((e) => e.action === "training.cancel").map((e) => e.reason);
    expect(cancels).toEqual(["wrong snapshot", "its worker died before stopping it"]);
  });
});

/**
 * A runtime whose training waits until the test lets it finish (`finish`), then writes an empty
 * model folder; its model calls every crop the first class.
 */
function gatedRuntime() {
  let entered!: () => void;
  let finish!: () => void;
  const inTraining = new Promise<void>((resolve) => (entered = resolve));
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const classifier: CellClassifier = {
    labels: LABELS,
    async predict(crops) {
      return crops.map(() => ({ label: LABELS[0]!, probabilities: {}, confidence: 0.9, abstained: false }));
    },
    async explain() {
      return new Uint8Array();
    },
    dispose() {},
  };
  const runtime = {
    async train(request: TrainRequest) {
      entered();
      await finished;
      await mkdir(request.outDir, { recursive: true });
      return { history: [{ epoch: 1, trainLoss: 0.5, trainAccuracy: 0.5 }], backend: "stand-in" };
    },
    async inspectModelDir(): Promise<ModelDirInfo> {
      return { name: "stand-in", version: "v", labels: LABELS, inputSize: 32, normalization: {}, architecture: {}, metrics: {}, weightsSha256: "a".repeat(64), folderSha256: "b".repeat(64), cropContext: 1.3 };
    },
    async loadClassifier() {
      return classifier;
    },
  } as unknown as ModelRuntime;
  return { runtime, inTraining, finish };
}

describe("a worker that only hung, coming back after the cancel", () => {
  it("registers no model and leaves the cancelled run as the cancel left it", async () => {
    const runId = await start();
    const job = (await claimAs("worker-hung"))!;
    expect(job.id).toBe((await jobOf(runId)).id);
    const { runtime, inTraining, finish } = gatedRuntime();
    // The worst case: a worker that never learns it lost the job (its renewals and its lease
    // timer do not get through; a real one would also find its heartbeat refused).
    const ctx: JobContext = {
      prisma: api.prisma,
      blobs: api.blobs,
      dataDir: api.env.dataDir,
      log: silentLogger,
      job,
      workerId: "worker-hung",
      signal: new AbortController().signal,
      async progress() {},
    };
    const handling = trainModelHandler({ runtime, classifiers: new ClassifierCache(runtime, api.env.dataDir) })(ctx).then(
      () => null,
      (err: unknown) => err,
    );
    await inTraining;
    expect((await runOf(runId)).status).toBe("RUNNING");
    await lastRenewed(job.id, 120);

    const cancelled = (await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: runId, reason: "its worker hangs" })).cancelTrainingRun;
    expect(cancelled).toMatchObject({ status: "CANCELLED", cancelRequested: true });
    const settled = { run: await runOf(runId), events: await eventsOf(runId) };

    // It comes back: its training ends, it evaluates and tries to register, write and close the run.
    finish();
    const outcome = await handling;
    expect((outcome as Error | null)?.name).toBe("JobCancelledError");
    expect(await api.prisma.modelVersion.findUnique({ where: { trainingRunId: runId } })).toBeNull();
    expect(await api.prisma.auditEvent.count({ where: { action: "model.register" } })).toBe(0);
    expect({ run: await runOf(runId), events: await eventsOf(runId) }).toEqual(settled);
    expect(await jobOf(runId)).toMatchObject({ status: "CANCELLED", lockedBy: null });
    // What it wrote on disk after the cancel went with it.
    expect(existsSync(join(api.env.dataDir, "runs", runId))).toBe(false);
    expect(existsSync(join(api.env.dataDir, "models", "runs", runId))).toBe(false);
  });
});
