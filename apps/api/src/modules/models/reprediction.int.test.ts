// The champion's re-prediction of open cases, through the GraphQL API on a real PostgreSQL: its
// job's state as the Models page reads it (ModelVersion.reprediction), and rerunReprediction, which
// runs it again when it failed or left cells. The job's state is driven by the queue's own calls
// (claimJob, heartbeat, failJob, completeJob), as a worker drives it; the handler itself is
// tested in jobs/handlers/repredictOpenCases.int.test.ts.
import type { ModelVersion, Role } from "@rcmnet/db";
import { signCaseForTest } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../../audit/recordAudit.ts";
import { claimJob, completeJob, enqueueJob, failJob, heartbeat, reapExpiredLeases } from "../../jobs/queue.ts";
import { insertCaseWithCells, insertModelVersion } from "../../jobs/testing/fixtures.ts";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { databaseFingerprint } from "../../testing/fixtures.ts";
import { setChampion } from "./setChampion.ts";

let api: TestApi;
let tokens: Record<Role, string>;
let techId: string;

beforeAll(async () => {
  api = await createTestApi();
  tokens = await api.loginAsEveryRole();
  techId = (await api.createUser("TECHNICIAN")).user.id;
});
afterAll(async () => {
  await api?.close();
});

const STATUS = `{ modelVersions(first: 50) { nodes { id status reprediction {
  status jobId progress step error attempts maxAttempts queuedAt finishedAt cellsLeft cellsPredicted waitingForWorkerSince workerSeenAt analysesAhead stalledSince rerunnable
} } } }`;
const RERUN = `mutation($id: ID!, $reason: String!) { rerunReprediction(modelVersionId: $id, reason: $reason) { id status reprediction { status jobId rerunnable } } }`;

interface Reprediction {
  status: string;
  jobId: string | null;
  progress: number;
  step: string | null;
  error: string | null;
  attempts: number;
  maxAttempts: number;
  queuedAt: string | null;
  finishedAt: string | null;
  cellsLeft: number;
  cellsPredicted: number;
  waitingForWorkerSince: string | null;
  workerSeenAt: string | null;
  analysesAhead: number;
  stalledSince: string | null;
  rerunnable: boolean;
}

/** Every version's reprediction as a reader (the AUDITOR) sees it. */
async function repredictions(token = tokens.AUDITOR): Promise<Map<string, Reprediction | null>> {
  const nodes = (await api.gqlOk(token, STATUS)).modelVersions.nodes as { id: string; reprediction: Reprediction | null }[];
  return new Map(nodes.map((n) => [n.id, n.reprediction]));
}
const repredictionOf = async (model: ModelVersion) => (await repredictions()).get(model.id) ?? null;

/** Made champion as an approval does (setChampion enqueues its re-prediction job). */
async function crown(model: ModelVersion) {
  await api.prisma.$transaction((tx) => setChampion(tx, null, model, "test"));
}

/** An open case of undecided cells (plus one decided) whose calls are `by`'s. */
async function openCase(by: ModelVersion, undecided: number) {
  const { cells } = await insertCaseWithCells(api.prisma, {
    createdById: techId,
    reviewerId: techId,
    status: "IN_REVIEW",
    cells: [...Array.from({ length: undecided }, () => ({})), { reviews: ["car_t"] }],
  });
  await callAll(by, cells.map((c) => c.id));
  return cells.slice(0, undecided).map((c) => c.id);
}

/**
 * The model's calls on these cells. A call's time is the database's clock at the insert (to the
 * millisecond): a few milliseconds apart, so that which call is a cell's newest does not hang on
 * two landing in one millisecond.
 */
async function callAll(model: ModelVersion, cellIds: string[]) {
  await new Promise((ok) => setTimeout(ok, 5));
  await api.prisma.prediction.createMany({
    data: cellIds.map((cellId) => ({ cellId, modelVersionId: model.id, label: "car_t", probabilities: {}, confidence: 0.9 })),
  });
}

/** What a worker's batch writes: the model's calls and a case.repredict event naming the job. */
async function writeBatch(model: ModelVersion, jobId: string, cellIds: string[]) {
  await callAll(model, cellIds);
  await api.prisma.$transaction((tx) =>
    recordAudit(tx, null, { action: "case.repredict", entityType: "Case", entityId: "batch", after: { modelVersionId: model.id, cells: cellIds.length, jobId } }),
  );
}

const claim = () => claimJob(api.prisma, { workerId: "worker-test", types: ["repredictOpenCases"], leaseMs: 60_000 });
/** A failed attempt's backoff over: due again now. */
const dueNow = (jobId: string) => api.prisma.$executeRaw`UPDATE "job" SET "runAfter" = CURRENT_TIMESTAMP WHERE id = ${jobId}::uuid`;

function codeOf(r: { errors?: { extensions?: { code?: string } }[] }) {
  return r.errors?.[0]?.extensions?.code;
}

describe("the champion's re-prediction of open cases", () => {
  let first: ModelVersion;
  let second: ModelVersion;
  let firstCells: string[];
  let secondCells: string[];
  let jobId: string;

  it("is NONE for a champion with no job, counting the cells still on other calls; null for other versions", async () => {
    // Made champion outside setChampion (as before jobs were recorded): no job at all.
    first = await insertModelVersion(api.prisma, { status: "CHAMPION" });
    const older = await insertModelVersion(api.prisma, { status: "ARCHIVED" });
    firstCells = await openCase(older, 2);
    const all = await repredictions();
    expect(all.get(older.id)).toBeNull();
    expect(all.get(first.id)).toEqual({
      status: "NONE",
      jobId: null,
      progress: 0,
      step: null,
      error: null,
      attempts: 0,
      maxAttempts: 0,
      queuedAt: null,
      finishedAt: null,
      cellsLeft: 2,
      cellsPredicted: 0,
      waitingForWorkerSince: null,
      workerSeenAt: null,
      analysesAhead: 0,
      stalledSince: null,
      rerunnable: true,
    });
    // Read as the model-version fields are: not by case workers.
    for (const role of ["HEMATOLOGIST", "TECHNICIAN"] as Role[]) expect(codeOf(await api.gql(tokens[role], STATUS)), role).toBe("FORBIDDEN");
  });

  it("follows the new champion's job: queued, waiting for a worker, running, retried, failed; the raw error stays in the log", async () => {
    await callAll(first, firstCells);
    second = await insertModelVersion(api.prisma);
    secondCells = await openCase(first, 3);
    // A signed case's undecided cell and a cell already on the new champion's call are not left.
    await callAll(second, [secondCells[2]!]);
    const signed = await insertCaseWithCells(api.prisma, { createdById: techId, reviewerId: techId, status: "IN_REVIEW", cells: [{}] });
    await callAll(first, [signed.cells[0]!.id]);
    await signCaseForTest(api.prisma, signed.case.id);
    await crown(second);

    const all = await repredictions();
    expect(all.get(first.id)).toBeNull();
    const queued = all.get(second.id)!;
    jobId = queued.jobId!;
    const job = await api.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job).toMatchObject({ type: "repredictOpenCases", dedupeKey: `repredictOpenCases:${second.id}:1` });
    expect(queued).toMatchObject({ status: "QUEUED", attempts: 0, maxAttempts: 3, cellsLeft: 4, cellsPredicted: 0, error: null, waitingForWorkerSince: null, rerunnable: false });
    expect(new Date(queued.queuedAt!).getTime()).toBe(job.createdAt.getTime());

    // Due for more than 5 minutes (the database's clock) with no worker taking it.
    await api.prisma.$executeRaw`UPDATE "job" SET "runAfter" = CURRENT_TIMESTAMP - interval '6 minutes' WHERE id = ${jobId}::uuid`;
    const waiting = await repredictionOf(second);
    const due = (await api.prisma.job.findUniqueOrThrow({ where: { id: jobId } })).runAfter;
    expect(waiting).toMatchObject({ status: "QUEUED", workerSeenAt: null, analysesAhead: 0, rerunnable: false });
    expect(new Date(waiting!.waitingForWorkerSince!).getTime()).toBe(due.getTime());

    expect((await claim())?.id).toBe(jobId);
    await heartbeat(api.prisma, jobId, "worker-test", { progress: 0.4, step: "predicting undecided cells of open cases" });
    await writeBatch(second, jobId, [firstCells[0]!, secondCells[0]!]);
    expect(await repredictionOf(second)).toMatchObject({
      status: "RUNNING",
      progress: 0.4,
      step: "predicting undecided cells of open cases",
      attempts: 1,
      cellsLeft: 2,
      cellsPredicted: 2,
      waitingForWorkerSince: null,
      rerunnable: false,
    });

    const raw = "connect ECONNREFUSED 10.0.0.7:5432 while loading /srv/rcmnet/models/secret/weights.bin";
    expect(await failJob(api.prisma, jobId, "worker-test", raw, { retryable: true })).toBe("QUEUED");
    const retried = await repredictionOf(second);
    expect(retried).toMatchObject({ status: "QUEUED", attempts: 1, waitingForWorkerSince: null, rerunnable: false });
    expect(retried!.error).toBe(`attempt 1 of 3 failed and is retried (the worker log has the details under job ${jobId})`);

    for (const attempt of [2, 3]) {
      await dueNow(jobId);
      expect((await claim())?.id).toBe(jobId);
      // The earlier attempt's error is kept while the next one runs: said as such, not as retried.
      expect((await repredictionOf(second))!.error).toBe(
        `attempt ${attempt - 1} failed; attempt ${attempt} of 3 running (the worker log has the details under job ${jobId})`,
      );
      expect(await failJob(api.prisma, jobId, "worker-test", raw, { retryable: true })).toBe(attempt === 3 ? "FAILED" : "QUEUED");
    }
    const failed = await repredictionOf(second);
    expect(failed).toMatchObject({ status: "FAILED", attempts: 3, cellsLeft: 2, cellsPredicted: 2, waitingForWorkerSince: null, rerunnable: true });
    expect(failed!.error).toBe(`gave up after 3 of 3 attempts (the worker log has the details under job ${jobId})`);
    expect(failed!.finishedAt).not.toBeNull();
    expect(JSON.stringify(failed)).not.toMatch(/ECONNREFUSED|10\.0\.0\.7|\/srv/);
  });

  it("runs it again for a DATA_SCIENTIST or an ADMIN with a reason, audited; refuses other roles, bad input, a non-champion and a second run, changing nothing", async () => {
    const refused = async (token: string | null, variables: Record<string, unknown>, code: string, message?: RegExp) => {
      const before = await databaseFingerprint(api.prisma);
      const r = await api.gql(token, RERUN, variables);
      expect(codeOf(r), JSON.stringify(r.errors)).toBe(code);
      if (message) expect(r.errors?.[0]?.message).toMatch(message);
      expect(r.data?.rerunReprediction ?? null).toBeNull();
      expect(await databaseFingerprint(api.prisma)).toEqual(before);
    };
    for (const role of ["HEMATOLOGIST", "TECHNICIAN", "AUDITOR"] as Role[]) await refused(tokens[role], { id: second.id, reason: "failed" }, "FORBIDDEN");
    await refused(null, { id: second.id, reason: "failed" }, "UNAUTHENTICATED");
    await refused(tokens.DATA_SCIENTIST, { id: second.id, reason: "   " }, "BAD_USER_INPUT", /reason is required/);
    await refused(tokens.DATA_SCIENTIST, { id: "00000000-0000-4000-8000-00000000dead", reason: "failed" }, "NOT_FOUND");
    await refused(tokens.DATA_SCIENTIST, { id: "not-a-uuid", reason: "failed" }, "NOT_FOUND");
    await refused(tokens.ADMIN, { id: first.id, reason: "failed" }, "CONFLICT", /is not the champion \(ARCHIVED\)/);

    const reason = "model folder restored after the disk fault";
    const answer = (await api.gqlOk(tokens.DATA_SCIENTIST, RERUN, { id: second.id, reason })).rerunReprediction;
    expect(answer).toMatchObject({ id: second.id, status: "CHAMPION", reprediction: { status: "QUEUED", rerunnable: false } });
    const rerun = await api.prisma.job.findUniqueOrThrow({ where: { id: answer.reprediction.jobId } });
    expect(rerun).toMatchObject({ type: "repredictOpenCases", status: "QUEUED", attempts: 0, payload: { modelVersionId: second.id }, dedupeKey: `repredictOpenCases:${second.id}:1:rerun1` });
    expect((await api.prisma.job.findUniqueOrThrow({ where: { id: jobId } })).status).toBe("FAILED");
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "model.rerunReprediction", entityId: second.id } });
    const scientist = await api.gqlOk(tokens.DATA_SCIENTIST, "{ me { id login } }");
    expect(event).toMatchObject({
      entityType: "ModelVersion",
      actorId: scientist.me.id,
      actorLogin: scientist.me.login,
      reason,
      before: { jobId, status: "FAILED", attempts: 3, cellsLeft: 2 },
      after: { jobId: rerun.id, dedupeKey: rerun.dedupeKey },
    });

    // Queued (then running): not twice.
    await refused(tokens.ADMIN, { id: second.id, reason: "again" }, "CONFLICT", /already queued/);
    expect((await claim())?.id).toBe(rerun.id);
    await refused(tokens.ADMIN, { id: second.id, reason: "again" }, "CONFLICT", /already running/);

    // It finishes the cells left; nothing is then left to run again.
    await writeBatch(second, rerun.id, [firstCells[1]!, secondCells[1]!]);
    expect(await completeJob(api.prisma, rerun.id, "worker-test")).toBe(true);
    expect(await repredictionOf(second)).toMatchObject({ status: "SUCCEEDED", jobId: rerun.id, progress: 1, error: null, cellsLeft: 0, cellsPredicted: 2, rerunnable: false });
    await refused(tokens.ADMIN, { id: second.id, reason: "again" }, "CONFLICT", /No undecided cell of an open case is left/);
  });

  it("runs it again when cells are left after it succeeded, once for two asking at once, with a key of its own", async () => {
    // A cell still on another model's call (its crop was missing when the job ran, say).
    await openCase(first, 1);
    expect(await repredictionOf(second)).toMatchObject({ status: "SUCCEEDED", cellsLeft: 1, rerunnable: true });
    const [a, b] = await Promise.all([
      api.gql(tokens.ADMIN, RERUN, { id: second.id, reason: "crops restored" }),
      api.gql(tokens.DATA_SCIENTIST, RERUN, { id: second.id, reason: "crops restored" }),
    ]);
    expect([codeOf(a), codeOf(b)].sort()).toEqual(["CONFLICT", undefined]);
    expect(await api.prisma.job.findMany({ where: { type: "repredictOpenCases", dedupeKey: { contains: ":rerun" } }, orderBy: { createdAt: "asc" }, select: { dedupeKey: true } })).toEqual([
      { dedupeKey: `repredictOpenCases:${second.id}:1:rerun1` },
      { dedupeKey: `repredictOpenCases:${second.id}:1:rerun2` },
    ]);
    expect(await api.prisma.auditEvent.count({ where: { action: "model.rerunReprediction" } })).toBe(2);
  });
});


describe("a re-prediction nobody answers for", () => {
  let champion: ModelVersion;
  let jobId: string;
  const analysis = (slideId: string, runAfterMinutesAgo: number) =>
    enqueueJob(api.prisma, { type: "analyzeSlide", payload: { slideId }, runAfter: new Date(Date.now() - runAfterMinutesAgo * 60_000) });
  /** What earlier tests finished counts as no worker's doing here. */
  const forgetFinished = () => api.prisma.$executeRaw`UPDATE "job" SET "finishedAt" = "finishedAt" - interval '1 hour' WHERE "finishedAt" IS NOT NULL`;

  it("says RUNNING stalled once its heartbeat is older than the lease and a margin, and stays not rerunnable until reaped", async () => {
    // The earlier champion's queued run is not this one's concern (a worker would take it first).
    await api.prisma.$executeRaw`UPDATE "job" SET status = 'CANCELLED', "finishedAt" = CURRENT_TIMESTAMP WHERE status = 'QUEUED'`;
    champion = await insertModelVersion(api.prisma);
    await openCase((await insertModelVersion(api.prisma, { status: "ARCHIVED" })), 2);
    await crown(champion);
    jobId = (await repredictionOf(champion))!.jobId!;
    expect((await claim())?.id).toBe(jobId);
    await heartbeat(api.prisma, jobId, "worker-test");
    expect(await repredictionOf(champion)).toMatchObject({ status: "RUNNING", stalledSince: null });

    // Within the lease (30 s) and its margin: a slow batch, not a dead worker.
    await api.prisma.$executeRaw`UPDATE "job" SET "heartbeatAt" = CURRENT_TIMESTAMP - interval '100 seconds' WHERE id = ${jobId}::uuid`;
    expect(await repredictionOf(champion)).toMatchObject({ status: "RUNNING", stalledSince: null });

    await api.prisma.$executeRaw`UPDATE "job" SET "heartbeatAt" = CURRENT_TIMESTAMP - interval '3 minutes' WHERE id = ${jobId}::uuid`;
    const last = (await api.prisma.job.findUniqueOrThrow({ where: { id: jobId } })).heartbeatAt!;
    const stalled = (await repredictionOf(champion))!;
    expect(stalled).toMatchObject({ status: "RUNNING", rerunnable: false });
    expect(new Date(stalled.stalledSince!).getTime()).toBe(last.getTime());
    const r = await api.gql(tokens.ADMIN, RERUN, { id: champion.id, reason: "worker died" });
    expect(codeOf(r)).toBe("CONFLICT");
    expect(r.errors?.[0]?.message).toMatch(/already running/);

    // A living worker reaps it: queued again, no longer stalled.
    expect(await reapExpiredLeases(api.prisma, 30_000)).toBe(1);
    expect(await repredictionOf(champion)).toMatchObject({ status: "QUEUED", stalledSince: null });
  });

  it("tells a worker busy with the slide analyses due before it from none taking these jobs", async () => {
    await forgetFinished();
    await api.prisma.$executeRaw`UPDATE "job" SET "runAfter" = CURRENT_TIMESTAMP - interval '6 minutes' WHERE id = ${jobId}::uuid`;
    expect(await repredictionOf(champion)).toMatchObject({ status: "QUEUED", workerSeenAt: null, analysesAhead: 0 });

    // An analysis whose lease the reaper took back, and another queued after this job: still no sign of a worker, none ahead.
    const dead = await analysis("dead", 20);
    await claimJob(api.prisma, { workerId: "worker-gone", types: ["analyzeSlide"], leaseMs: 30_000 });
    await api.prisma.$executeRaw`UPDATE "job" SET "maxAttempts" = 1, "heartbeatAt" = CURRENT_TIMESTAMP - interval '1 minute' WHERE id = ${dead.id}::uuid`;
    expect(await reapExpiredLeases(api.prisma, 30_000)).toBe(1);
    expect((await api.prisma.job.findUniqueOrThrow({ where: { id: dead.id } })).status).toBe("FAILED");
    await analysis("later", 0);
    const waiting = (await repredictionOf(champion))!;
    expect(waiting).toMatchObject({ workerSeenAt: null, analysesAhead: 0 });
    expect(waiting.waitingForWorkerSince).not.toBeNull();

    // A worker renewing an analysis now, with two more due before this job: busy, not absent.
    const busy = await analysis("busy", 30);
    expect((await claimJob(api.prisma, { workerId: "worker-busy", types: ["analyzeSlide"], leaseMs: 30_000 }))?.id).toBe(busy.id);
    await analysis("ahead-1", 10);
    await analysis("ahead-2", 8);
    const behind = (await repredictionOf(champion))!;
    const seen = (await api.prisma.job.findUniqueOrThrow({ where: { id: busy.id } })).heartbeatAt!;
    expect(behind).toMatchObject({ status: "QUEUED", analysesAhead: 2 });
    expect(new Date(behind.workerSeenAt!).getTime()).toBe(seen.getTime());
    expect(behind.waitingForWorkerSince).not.toBeNull();

    // It finished that one four minutes ago and nothing since: still seen; six minutes ago: not.
    expect(await completeJob(api.prisma, busy.id, "worker-busy")).toBe(true);
    await api.prisma.$executeRaw`UPDATE "job" SET "finishedAt" = CURRENT_TIMESTAMP - interval '4 minutes' WHERE id = ${busy.id}::uuid`;
    expect((await repredictionOf(champion))!.workerSeenAt).not.toBeNull();
    await api.prisma.$executeRaw`UPDATE "job" SET "finishedAt" = CURRENT_TIMESTAMP - interval '6 minutes' WHERE id = ${busy.id}::uuid`;
    expect(await repredictionOf(champion)).toMatchObject({ workerSeenAt: null, analysesAhead: 2 });
  });
});
