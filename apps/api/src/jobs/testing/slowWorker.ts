// A real worker process running the production handlers, whose progress reports are slowed
// down so a test can kill it at a chosen step. Started by tests as a child process:
//   node --import tsx slowWorker.ts <databaseUrl> <dataDir> <leaseMs> <progressDelayMs>
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BlobStore, createPrismaClient } from "@rcmnet/db";
import { createHandlers } from "../handlers/index.ts";
import { jsonLogger } from "../logger.ts";
import { ClassifierCache } from "../model/classifierCache.ts";
import { getModelRuntime, initModelBackend } from "../model/modelRuntime.ts";
import { startWorker } from "../runWorker.ts";
import type { JobHandler } from "../types.ts";

const [databaseUrl, dataDir, leaseArg, delayArg] = process.argv.slice(2);
if (!databaseUrl || !dataDir)
  throw new Error("usage: slowWorker.ts <databaseUrl> <dataDir> <leaseMs> <progressDelayMs>");
const leaseMs = Number(leaseArg ?? 30_000);
const delayMs = Number(delayArg ?? 0);

await initModelBackend();
const runtime = await getModelRuntime();
const prisma = createPrismaClient(databaseUrl, { max: 3 });
const handlers = createHandlers({ runtime, classifiers: new ClassifierCache(runtime, dataDir) });
const slowed: Record<string, JobHandler> = {};
for (const [type, handler] of Object.entries(handlers)) {
  slowed[type] = (ctx) =>
    handler({
      ...ctx,
      async progress(value, step) {
        await ctx.progress(value, step);
        await sleep(delayMs);
      },
    });
}
const worker = startWorker({
  prisma,
  blobs: new BlobStore(join(dataDir, "blobs")),
  dataDir,
  log: jsonLogger(),
  pollMs: 100,
  leaseMs,
  handlers: slowed,
});
process.once("SIGTERM", () => {
  void worker.stop().then(() => prisma.$disconnect());
});
