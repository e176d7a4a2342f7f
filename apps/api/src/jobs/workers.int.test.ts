// Two real worker processes on one database: every job runs exactly once.
import { createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueJob } from "./queue.ts";
import { spawnWorker, type SpawnedWorker } from "./testing/spawnWorker.ts";

let db: TestDatabase;
let dataDir: string;
const workers: SpawnedWorker[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "rcmnet-workers-"));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("two worker processes", () => {
  it("process N jobs exactly once between them", async () => {
    const script = new URL("./testing/recordingWorker.ts", import.meta.url);
    workers.push(spawnWorker(script, [db.url, dataDir]), spawnWorker(script, [db.url, dataDir]));
    await Promise.all(workers.map((w) => w.waitFor(/worker started/)));

    const n = 40;
    const jobs = [];
    for (let i = 0; i < n; i++)
      jobs.push(await enqueueJob(db.prisma, { type: "test.record", payload: { i } }));

    while ((await db.prisma.job.count({ where: { status: "SUCCEEDED" } })) < n) {
      const failed = await db.prisma.job.findFirst({ where: { status: { in: ["FAILED", "CANCELLED"] } } });
      expect(failed, workers.map((w) => w.output()).join("\n")).toBeNull();
      await sleep(100);
    }
    const runs = await db.prisma.auditEvent.groupBy({
      by: ["entityId"],
      where: { action: "test.jobProcessed" },
      _count: true,
    });
    expect(runs).toHaveLength(n);
    expect(runs.every((r) => r._count === 1)).toBe(true);
    expect(new Set(runs.map((r) => r.entityId))).toEqual(new Set(jobs.map((j) => j.id)));
    // Both took part (each handler sleeps, so neither can drain the queue alone before the other polls).
    const byWorker = await db.prisma.auditEvent.groupBy({
      by: ["actorLogin"],
      where: { action: "test.jobProcessed" },
      _count: true,
    });
    expect(byWorker).toHaveLength(2);
    expect(await db.prisma.job.findMany({ where: { attempts: { not: 1 } } })).toEqual([]);
  }, 60_000);

  it("stops gracefully on SIGTERM", async () => {
    await Promise.all(workers.map((w) => w.stop("SIGTERM")));
    for (const w of workers) {
      expect(w.child.exitCode).toBe(0);
      expect(w.output()).toMatch(/worker stopped/);
    }
  }, 30_000);
});
