// A worker process killed (SIGKILL) in the middle of a slide analysis: its job is taken back
// after the lease expires and finished by another worker, without duplicate cells or
// predictions.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BlobStore } from "@rcmnet/db";
import { createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueSlideAnalysis } from "./analysisJobs.ts";
import { getModelRuntime, synthDemoField } from "./model/modelRuntime.ts";
import { registerTestModel } from "./testing/registerTestModel.ts";
import { spawnWorker, type SpawnedWorker } from "./testing/spawnWorker.ts";
import { tinyModelDir } from "./testing/tinyModel.ts";

let db: TestDatabase;
let dataDir: string;
const workers: SpawnedWorker[] = [];
const script = new URL("./testing/slowWorker.ts", import.meta.url);

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "rcmnet-kill-"));
  await registerTestModel(db.prisma, await tinyModelDir(1), "CHAMPION");
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}:\n${workers.map((w) => w.output()).join("\n")}`);
    await sleep(25);
  }
}

describe("a worker killed mid-job", () => {
  it("is retried by another worker without duplicate cells or predictions", async () => {
    const blobs = new BlobStore(join(dataDir, "blobs"));
    const runtime = await getModelRuntime();
    const user = await db.prisma.user.create({
      data: { login: "t", displayName: "T", role: "TECHNICIAN", passwordHash: "x" },
    });
    const kase = await db.prisma.case.create({ data: { accession: "K-1", createdById: user.id } });
    const field = await synthDemoField(21);
    const sha = await blobs.put(field.bytes);
    const slide = await db.prisma.slide.create({
      data: {
        caseId: kase.id,
        imageSha256: sha,
        mimeType: "image/jpeg",
        byteSize: field.bytes.length,
        ...(await runtime.imageSize(field.bytes)),
        uploadedById: user.id,
      },
    });
    const job = await enqueueSlideAnalysis(db.prisma, slide.id);

    // Each progress report is followed by a 1.5 s pause: the worker is killed in the pause
    // right after it stored the cells, before any prediction.
    const victim = spawnWorker(script, [db.url, dataDir, "1500", "1500"]);
    workers.push(victim);
    await until(
      "cells stored",
      async () => (await db.prisma.cell.count({ where: { slideId: slide.id } })) > 0,
    );
    await victim.stop("SIGKILL");
    const atKill = {
      cells: await db.prisma.cell.count({ where: { slideId: slide.id } }),
      slide: (await db.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } })).analysisStatus,
      job: await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } }),
    };
    // The kill really interrupted the job.
    expect(atKill.slide).toBe("RUNNING");
    expect(atKill.job).toMatchObject({ status: "RUNNING", attempts: 1 });

    // A longer lease for the rescuer: it reaps the victim's job once its 6 s pass, and its own
    // renewals (every 2 s) survive the event loop being held by a model on a loaded machine (with
    // 1.5 s it once lost its own job mid-analysis in CI and took it a third time).
    const rescuer = spawnWorker(script, [db.url, dataDir, "6000", "0"]);
    workers.push(rescuer);
    const done = await until("job finished", async () => {
      const row = await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
      return row.status === "SUCCEEDED" || row.status === "FAILED" ? row : null;
    });
    expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 2 });
    expect(done.lockedBy).toBeNull();

    const cells = await db.prisma.cell.findMany({
      where: { slideId: slide.id },
      include: { predictions: true },
    });
    expect(cells.length).toBe(atKill.cells); // the same boxes, not twice
    expect(cells.every((c) => c.predictions.length === 1)).toBe(true);
    expect((await db.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } })).analysisStatus).toBe(
      "DONE",
    );
    expect((await db.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).status).toBe("IN_REVIEW");
    expect(
      await db.prisma.auditEvent.count({ where: { action: "slide.analyzed", entityId: slide.id } }),
    ).toBe(1);
    await rescuer.stop("SIGTERM");
  }, 180_000);
});
