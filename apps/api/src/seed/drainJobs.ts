// Runs queued jobs in this process until none of the given types is left: the seed's analyses
// are ready for review before `npm start` prints the URL.
import { setTimeout as sleep } from "node:timers/promises";
import type { BlobStore, PrismaClient } from "@rcmnet/db";
import { startWorker } from "../jobs/runWorker.ts";
import type { JobHandler, JobLogger } from "../jobs/types.ts";

export async function drainJobs(options: {
  prisma: PrismaClient;
  blobs: BlobStore;
  dataDir: string;
  log: JobLogger;
  handlers: Record<string, JobHandler>;
  onProgress?: (done: number, total: number) => void;
}): Promise<void> {
  const { prisma, handlers } = options;
  const types = Object.keys(handlers);
  const open = () =>
    prisma.job.count({ where: { type: { in: types }, status: { in: ["QUEUED", "RUNNING"] } } });
  const total = await open();
  if (total === 0) return;
  // Short lease: a job left RUNNING by an interrupted earlier seed is taken back quickly.
  const worker = startWorker({ ...options, pollMs: 100, leaseMs: 10_000, heartbeatMs: 2_000 });
  try {
    for (let left = total; left > 0; left = await open()) {
      options.onProgress?.(total - left, total);
      await sleep(250);
    }
    options.onProgress?.(total, total);
  } finally {
    await worker.stop();
  }
}
