// Runs the real worker loop in the test's process until no job is open, for handler tests on a
// real database.
import { setTimeout as sleep } from "node:timers/promises";
import type { BlobStore, PrismaClient } from "@rcmnet/db";
import { createHandlers } from "../handlers/index.ts";
import { silentLogger } from "../logger.ts";
import { ClassifierCache } from "../model/classifierCache.ts";
import type { ModelRuntime } from "../model/runtime.ts";
import { startWorker } from "../runWorker.ts";

export interface RunJobsOptions {
  prisma: PrismaClient;
  blobs: BlobStore;
  dataDir: string;
  runtime: ModelRuntime;
  /** Only these job types (default: all); the others are left queued, or running where they are. */
  types?: string[];
}

/** Every job type's handler (or those of `types`), as `npm start`'s workers together take them; returns once they have nothing left to do. */
export async function runJobs({ prisma, blobs, dataDir, runtime, types }: RunJobsOptions): Promise<void> {
  const worker = startWorker({
    prisma,
    blobs,
    dataDir,
    log: silentLogger,
    pollMs: 50,
    handlers: createHandlers({ runtime, classifiers: new ClassifierCache(runtime, dataDir) }, types),
  });
  const open = () => prisma.job.count({ where: { status: { in: ["QUEUED", "RUNNING"] }, runAfter: { lte: new Date() }, ...(types ? { type: { in: types } } : {}) } });
  while ((await open()) > 0) {
    await sleep(50);
  }
  await worker.stop();
}
