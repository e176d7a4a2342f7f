// A training run no worker takes, or whose worker died, or queued behind the jobs a living worker
// is busy with, through the GraphQL API on a real PostgreSQL: TrainingRun.waitingForWorkerSince,
// queuedBehind and stalledSince (the Retraining page's status line). The job's state is driven by the queue's own calls (claimJob, heartbeat,
// reapExpiredLeases), as a worker drives it; times moved back by hand stand for minutes passing.
import type { Role } from "@rcmnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trainingKey } from "../../jobs/analysisJobs.ts";
import { cancelJob, claimJob, enqueueJob, heartbeat, reapExpiredLeases } from "../../jobs/queue.ts";
import { insertCaseWithCells } from "../../jobs/testing/fixtures.ts";
import { createTestApi, type TestApi } from "../../testing/index.ts";

let api: TestApi;
let tokens: Record<Role, string>;

beforeAll(async () => {
  api = await createTestApi();
  tokens = await api.loginAsEveryRole();
});
afterAll(async () => {
  await api?.close();
});

const SNAPSHOT = `mutation($name: String!) { createDatasetSnapshot(name: $name) { id } }`;
const START = `mutation($snapshotId: ID!) { startTrainingRun(snapshotId: $snapshotId, config: { epochs: 2 }) { id status } }`;
const FIELDS = "id status createdAt startedAt waitingForWorkerSince queuedBehind stalledSince";
const LIST = `{ trainingRuns(first: 20) { nodes { ${FIELDS} } } }`;
const ONE = `query($id: ID!) { trainingRun(id: $id) { ${FIELDS} } }`;

interface Watched {
  id: string;
  status: string;
  createdAt: string;
  startedAt: string | null;
  waitingForWorkerSince: string | null;
  queuedBehind: number | null;
  stalledSince: string | null;
}

/** The run as a reader (the AUDITOR) sees it, alone and in the list: both must agree. */
async function watched(runId: string): Promise<Watched> {
  const one = (await api.gqlOk(tokens.AUDITOR, ONE, { id: runId })).trainingRun as Watched;
  const listed = ((await api.gqlOk(tokens.AUDITOR, LIST)).trainingRuns.nodes as Watched[]).find((r) => r.id === runId);
  expect(listed).toEqual(one);
  return one;
}

const at = (iso: string | null) => (iso === null ? null : new Date(iso).getTime());
const jobOf = (runId: string) => api.prisma.job.findUniqueOrThrow({ where: { dedupeKey: trainingKey(runId) } });
const claim = () => claimJob(api.prisma, { workerId: "trainer-1", types: ["trainModel"], leaseMs: 30_000 });

describe("a training run stuck with no worker", () => {
  let runId: string;
  let jobId: string;
  let snapshotId: string;

  it("says a queued run waits for a worker once its job has been due 5 minutes, since when it was due", async () => {
    const tech = await api.createUser("TECHNICIAN");
    const hema = await api.createUser("HEMATOLOGIST");
    for (let p = 0; p < 6; p++) {
      await insertCaseWithCells(api.prisma, {
        createdById: tech.user.id,
        reviewerId: hema.user.id,
        status: "SIGNED_OUT",
        patientRef: `MRN-WATCH-${p}`,
        cells: ["car_t", "lymphocyte", "neutrophil"].map((l) => ({ reviews: [l] })),
      });
    }
    snapshotId = (await api.gqlOk(tokens.DATA_SCIENTIST, SNAPSHOT, { name: "watched" })).createDatasetSnapshot.id;
    runId = (await api.gqlOk(tokens.DATA_SCIENTIST, START, { snapshotId })).startTrainingRun.id;
    jobId = (await jobOf(runId)).id;
    // Just queued: a worker takes it within seconds when one runs.
    expect(await watched(runId)).toMatchObject({ status: "QUEUED", startedAt: null, waitingForWorkerSince: null, stalledSince: null });

    // Four minutes: not yet.
    await api.prisma.$executeRaw`UPDATE "job" SET "runAfter" = CURRENT_TIMESTAMP - interval '4 minutes', "createdAt" = CURRENT_TIMESTAMP - interval '4 minutes' WHERE id = ${jobId}::uuid`;
    expect(await watched(runId)).toMatchObject({ waitingForWorkerSince: null, stalledSince: null });

    // Queued 42 minutes ago and no worker took it (none takes trainModel). The run's own createdAt
    // cannot be moved back (the database refuses): the rule reads its job's, which stands for it.
    await api.prisma.$executeRaw`UPDATE "job" SET "runAfter" = CURRENT_TIMESTAMP - interval '42 minutes', "createdAt" = CURRENT_TIMESTAMP - interval '42 minutes' WHERE id = ${jobId}::uuid`;
    const due = (await jobOf(runId)).runAfter;
    const waiting = await watched(runId);
    // No job holds a live lease: no worker is alive, not one busy with other jobs.
    expect(waiting).toMatchObject({ status: "QUEUED", startedAt: null, queuedBehind: null, stalledSince: null });
    expect(at(waiting.waitingForWorkerSince)).toBe(due.getTime());
    // A worker that takes another type only does not take it.
    expect(await claimJob(api.prisma, { workerId: "inference", types: ["analyzeSlide", "repredictOpenCases"], leaseMs: 30_000 })).toBeNull();
    expect(at((await watched(runId)).waitingForWorkerSince)).toBe(due.getTime());
  });

  it("says a running run stalled once its lease has gone unrenewed past the lease and a margin, with its last heartbeat", async () => {
    // A worker takes it (the handler marks the run RUNNING with its start) and renews its lease.
    expect((await claim())?.id).toBe(jobId);
    await api.prisma.trainingRun.update({ where: { id: runId }, data: { status: "RUNNING", startedAt: new Date() } });
    expect(await heartbeat(api.prisma, jobId, "trainer-1", { progress: 0.3, step: "epoch 1/2" })).toBe(true);
    const running = await watched(runId);
    expect(running).toMatchObject({ status: "RUNNING", waitingForWorkerSince: null, stalledSince: null });
    expect(running.startedAt).not.toBeNull();
    expect(at(running.startedAt)!).toBeGreaterThan(at(running.createdAt)!);

    // Past the lease (30 s) but within its margin: a slow renewal, not a dead worker.
    await api.prisma.$executeRaw`UPDATE "job" SET "heartbeatAt" = CURRENT_TIMESTAMP - interval '100 seconds' WHERE id = ${jobId}::uuid`;
    expect(await watched(runId)).toMatchObject({ status: "RUNNING", stalledSince: null });

    // Its worker was killed 12 minutes ago and no living worker has reaped the lease since.
    await api.prisma.$executeRaw`UPDATE "job" SET "heartbeatAt" = CURRENT_TIMESTAMP - interval '12 minutes' WHERE id = ${jobId}::uuid`;
    const last = (await jobOf(runId)).heartbeatAt!;
    const stalled = await watched(runId);
    expect(stalled).toMatchObject({ status: "RUNNING", waitingForWorkerSince: null });
    expect(at(stalled.stalledSince)).toBe(last.getTime());
  });

  it("says a run handed back to the queue waits for a worker again, and says nothing once it has ended", async () => {
    // A living worker reaps the lease: queued again with a backoff, the run still RUNNING.
    expect(await reapExpiredLeases(api.prisma, 30_000)).toBe(1);
    expect(await watched(runId)).toMatchObject({ status: "RUNNING", waitingForWorkerSince: null, stalledSince: null });
    await api.prisma.$executeRaw`UPDATE "job" SET "runAfter" = CURRENT_TIMESTAMP - interval '6 minutes' WHERE id = ${jobId}::uuid`;
    const requeued = await watched(runId);
    expect(requeued).toMatchObject({ status: "RUNNING", queuedBehind: null, stalledSince: null });
    expect(at(requeued.waitingForWorkerSince)).toBe((await jobOf(runId)).runAfter.getTime());

    // Ended (its job failed for good and the run was settled): nothing to wait for.
    await api.prisma.job.update({ where: { id: jobId }, data: { status: "FAILED", finishedAt: new Date() } });
    await api.prisma.trainingRun.update({ where: { id: runId }, data: { status: "FAILED", finishedAt: new Date() } });
    expect(await watched(runId)).toMatchObject({ status: "FAILED", waitingForWorkerSince: null, stalledSince: null });
  });
  it("says a run due behind the jobs a living worker is busy with is queued behind them, and waits for a worker once none renews a lease", async () => {
    runId = (await api.gqlOk(tokens.DATA_SCIENTIST, START, { snapshotId })).startTrainingRun.id;
    jobId = (await jobOf(runId)).id;
    await api.prisma.$executeRaw`UPDATE "job" SET "runAfter" = CURRENT_TIMESTAMP - interval '10 minutes', "createdAt" = CURRENT_TIMESTAMP - interval '10 minutes' WHERE id = ${jobId}::uuid`;
    const analysis = (name: string, minutesAgo: number) =>
      enqueueJob(api.prisma, { type: "analyzeSlide", payload: { name }, runAfter: new Date(Date.now() - minutesAgo * 60_000) });
    const inference = (workerId: string) => claimJob(api.prisma, { workerId, types: ["analyzeSlide"], leaseMs: 30_000 });
    // An analysis whose worker died (its lease expired, not yet reaped): no sign of a living worker.
    const dead = await analysis("dead", 30);
    expect((await inference("inference-gone"))?.id).toBe(dead.id);
    await api.prisma.$executeRaw`UPDATE "job" SET "heartbeatAt" = CURRENT_TIMESTAMP - interval '40 seconds' WHERE id = ${dead.id}::uuid`;
    // One a living worker renews now, one queued and due before the run, one queued after it.
    const busy = await analysis("busy", 20);
    expect((await inference("inference-busy"))?.id).toBe(busy.id);
    const ahead = await analysis("ahead", 15);
    const after = await analysis("after", 1);

    const behind = await watched(runId);
    expect(behind).toMatchObject({ status: "QUEUED", queuedBehind: 2, stalledSince: null });
    // Still due for 10 minutes with none taking it: the time stays, queuedBehind says why.
    expect(at(behind.waitingForWorkerSince)).toBe((await jobOf(runId)).runAfter.getTime());

    // The busy worker's lease expires too (it died): no job holds a live lease, no worker is alive.
    await api.prisma.$executeRaw`UPDATE "job" SET "heartbeatAt" = CURRENT_TIMESTAMP - interval '31 seconds' WHERE id = ${busy.id}::uuid`;
    const alone = await watched(runId);
    expect(alone).toMatchObject({ status: "QUEUED", queuedBehind: null });
    expect(alone.waitingForWorkerSince).not.toBeNull();

    for (const job of [dead, busy, ahead, after]) await cancelJob(api.prisma, job.id);
    await api.gqlOk(tokens.DATA_SCIENTIST, `mutation($id: ID!) { cancelTrainingRun(id: $id, reason: "test done") { id } }`, { id: runId });
  });
});
