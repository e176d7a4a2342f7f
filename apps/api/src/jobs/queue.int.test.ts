// The queue's SQL on a real PostgreSQL: dedupe, claim, lease expiry, retry with backoff, cancel.
import { createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  cancelJob,
  claimJob,
  completeJob,
  enqueueJob,
  failJob,
  heartbeat,
  reapExpiredLeases,
} from "./queue.ts";
import { silentLogger } from "./logger.ts";
import { startWorker, type WorkerOptions } from "./runWorker.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.prisma.job.deleteMany();
});

/** A worker loop on `prisma` (a test's wrapper of the database) that polls fast and stops quickly. */
const testWorker = (prisma: typeof db.prisma, options: Pick<WorkerOptions, "handlers"> & Partial<WorkerOptions>) =>
  startWorker({ prisma, blobs: undefined as never, dataDir: "/nonexistent", log: silentLogger, pollMs: 20, shutdownGraceMs: 100, ...options });

const claim = (workerId: string) => claimJob(db.prisma, { workerId, types: ["t"], leaseMs: 60_000 });

describe("job queue", () => {
  it("dedupes on dedupeKey, also inside a transaction that goes on afterwards", async () => {
    const first = await enqueueJob(db.prisma, { type: "t", payload: { n: 1 }, dedupeKey: "k" });
    const second = await db.prisma.$transaction(async (tx) => {
      const job = await enqueueJob(tx, { type: "t", payload: { n: 2 }, dedupeKey: "k" });
      // The transaction is still usable: no unique violation aborted it.
      await tx.job.count();
      return job;
    });
    expect(second.id).toBe(first.id);
    expect(second.payload).toEqual({ n: 1 });
    expect(await db.prisma.job.count()).toBe(1);
  });

  it("an enqueue in a rolled-back transaction leaves no job", async () => {
    await expect(
      db.prisma.$transaction(async (tx) => {
        await enqueueJob(tx, { type: "t", payload: {} });
        throw new Error("upload failed");
      }),
    ).rejects.toThrow("upload failed");
    expect(await db.prisma.job.count()).toBe(0);
  });

  it("refuses bad options", async () => {
    await expect(enqueueJob(db.prisma, { type: "t", payload: {}, maxAttempts: 0 })).rejects.toThrow(
      /maxAttempts/,
    );
    await expect(enqueueJob(db.prisma, { type: "", payload: {} })).rejects.toThrow(/type/);
  });

  it("claims each job once, only of the worker's types and only when due", async () => {
    await enqueueJob(db.prisma, { type: "t", payload: {} });
    await enqueueJob(db.prisma, { type: "other", payload: {} });
    await enqueueJob(db.prisma, { type: "t", payload: {}, runAfter: new Date(Date.now() + 3_600_000) });
    const a = await claim("w1");
    expect(a).toMatchObject({ status: "RUNNING", attempts: 1, lockedBy: "w1" });
    expect(await claim("w2")).toBeNull();
    expect(await completeJob(db.prisma, a!.id, "w2")).toBe(false); // not its job
    expect(await completeJob(db.prisma, a!.id, "w1")).toBe(true);
    expect(await db.prisma.job.findUniqueOrThrow({ where: { id: a!.id } })).toMatchObject({
      status: "SUCCEEDED",
      progress: 1,
    });
  });

  it("records progress through the heartbeat", async () => {
    const job = await enqueueJob(db.prisma, { type: "t", payload: {} });
    await claim("w1");
    expect(await heartbeat(db.prisma, job.id, "w1", { progress: 0.5, step: "detecting" })).toBe(true);
    expect(await heartbeat(db.prisma, job.id, "w1")).toBe(true);
    expect(await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({
      progress: 0.5,
      step: "detecting",
    });
  });

  it("requeues a job whose lease expired, then fails it after maxAttempts", async () => {
    const job = await enqueueJob(db.prisma, { type: "t", payload: {}, maxAttempts: 2 });
    await claim("dead");
    // Simulate a worker that stopped renewing a minute ago.
    const expire = () =>
      db.prisma.job.update({ where: { id: job.id }, data: { heartbeatAt: new Date(Date.now() - 60_000) } });
    await expire();
    expect(await reapExpiredLeases(db.prisma, 30_000)).toBe(1);
    let row = await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row).toMatchObject({ status: "QUEUED", attempts: 1, lockedBy: null });
    expect(row.error).toMatch(/dead stopped renewing/);
    expect(row.runAfter.getTime()).toBeGreaterThan(Date.now() - 1000); // backoff
    // The dead worker's late writes are refused.
    expect(await heartbeat(db.prisma, job.id, "dead")).toBe(false);
    await db.prisma.job.update({ where: { id: job.id }, data: { runAfter: new Date(0) } });
    expect(await claim("w2")).toMatchObject({ attempts: 2, lockedBy: "w2" });
    await expire();
    await reapExpiredLeases(db.prisma, 30_000);
    row = await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("FAILED");
    expect(row.finishedAt).not.toBeNull();
  });

  it("does not reap a job whose worker keeps its lease", async () => {
    await enqueueJob(db.prisma, { type: "t", payload: {} });
    await claim("alive");
    expect(await reapExpiredLeases(db.prisma, 30_000)).toBe(0);
  });

  it("retries a retryable failure and fails a permanent one at once", async () => {
    const a = await enqueueJob(db.prisma, { type: "t", payload: {}, maxAttempts: 3 });
    await claim("w");
    expect(await failJob(db.prisma, a.id, "w", "flaky", { retryable: true })).toBe("QUEUED");
    await db.prisma.job.update({ where: { id: a.id }, data: { runAfter: new Date(0) } });
    await claim("w");
    expect(await failJob(db.prisma, a.id, "w", "bad image", { retryable: false })).toBe("FAILED");
    expect(await db.prisma.job.findUniqueOrThrow({ where: { id: a.id } })).toMatchObject({
      status: "FAILED",
      error: "bad image",
      attempts: 2,
    });
  });

  it("cancels queued and running jobs; a cancelled running job's heartbeat says stop", async () => {
    const queued = await enqueueJob(db.prisma, {
      type: "t",
      payload: {},
      runAfter: new Date(Date.now() + 1e6),
    });
    const running = await enqueueJob(db.prisma, { type: "t", payload: {} });
    await claim("w");
    expect(await cancelJob(db.prisma, queued.id)).toBe(true);
    expect(await cancelJob(db.prisma, running.id)).toBe(true);
    expect(await heartbeat(db.prisma, running.id, "w")).toBe(false);
    expect(await completeJob(db.prisma, running.id, "w")).toBe(false);
    expect(await cancelJob(db.prisma, running.id)).toBe(false); // already finished
    expect(await claim("w")).toBeNull();
  });

  it("a worker stopped while its claim is in flight hands the job back instead of running it past the grace", async () => {
    const job = await enqueueJob(db.prisma, { type: "t", payload: {} });
    // Hold the claim query until stop() has been called: stop() then finds no job running.
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    let claimSeen!: () => void;
    const claiming = new Promise<void>((r) => (claimSeen = r));
    const prisma = new Proxy(db.prisma, {
      get(target, key, receiver) {
        if (key !== "$queryRaw") return Reflect.get(target, key, receiver);
        return async (sql: TemplateStringsArray, ...values: unknown[]) => {
          if (sql.join("?").includes('"status" = \'RUNNING\', "attempts"')) {
            claimSeen();
            await gate;
          }
          return target.$queryRaw(sql, ...values);
        };
      },
    });
    let ran = false;
    const worker = testWorker(prisma, { handlers: { t: async () => void (ran = true) } });
    await claiming;
    const stopped = worker.stop();
    openGate();
    await stopped;
    expect(ran).toBe(false);
    expect(await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: "QUEUED", attempts: 0, lockedBy: null });
  });

  it("a worker whose heartbeats hang (database unreachable) gives the job up a heartbeat before its lease expires, so two never run it", async () => {
    const job = await enqueueJob(db.prisma, { type: "t", payload: {} });
    // The first heartbeat is stamped at once but answered late; the later ones never answer.
    let firstSentAt = 0;
    const prisma = new Proxy(db.prisma, {
      get(target, key, receiver) {
        if (key !== "$executeRaw") return Reflect.get(target, key, receiver);
        return async (sql: TemplateStringsArray, ...values: unknown[]) => {
          if (!sql.join("?").includes('SET "heartbeatAt"')) return target.$executeRaw(sql, ...values);
          if (firstSentAt) return new Promise(() => {});
          firstSentAt = Date.now();
          const count = await target.$executeRaw(sql, ...values);
          await new Promise((r) => setTimeout(r, 250));
          return count;
        };
      },
    });
    const leaseMs = 1_500;
    let claimedAt = 0;
    let abortedAfterMs = Number.POSITIVE_INFINITY;
    const worker = testWorker(prisma, {
      leaseMs,
      heartbeatMs: 300,
      handlers: {
        t: async (ctx) => {
          claimedAt = Date.now();
          // A long job that needs no database (training once its data is loaded).
          await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
          abortedAfterMs = Date.now() - claimedAt;
        },
      },
    });
    try {
      await expect.poll(() => abortedAfterMs, { timeout: 5_000 }).toBeLessThan(Number.POSITIVE_INFINITY);
      // Given up leaseMs - heartbeatMs after the last renewal was sent: well before the database's
      // lease, stamped then, runs out (and not timed from the late answer).
      const renewedAfterMs = firstSentAt - claimedAt;
      expect(abortedAfterMs).toBeLessThan(renewedAfterMs + leaseMs - 150);
      // The lease then expires and another worker takes the job; the first one wrote nothing since.
      await new Promise((r) => setTimeout(r, Math.max(0, firstSentAt + leaseMs + 200 - Date.now())));
      await reapExpiredLeases(db.prisma, leaseMs);
      expect(await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: "QUEUED", attempts: 1 });
    } finally {
      await worker.stop();
    }
  });

  it("a worker whose job's failure could not be recorded still stops cleanly", async () => {
    await enqueueJob(db.prisma, { type: "t", payload: {} });
    let failWrites = 0;
    const prisma = new Proxy(db.prisma, {
      get(target, key, receiver) {
        if (key !== "$queryRaw") return Reflect.get(target, key, receiver);
        return (sql: TemplateStringsArray, ...values: unknown[]) => {
          if (sql.join("?").includes('"error" = ') && failWrites++ === 0) return Promise.reject(new Error("connection lost"));
          return target.$queryRaw(sql, ...values);
        };
      },
    });
    const worker = testWorker(prisma, { handlers: { t: async () => { throw new Error("handler failed"); } } });
    await expect.poll(() => failWrites, { timeout: 5_000 }).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100)); // the loop has logged the error and polls again
    await expect(worker.stop()).resolves.toBeUndefined();
  });
});
