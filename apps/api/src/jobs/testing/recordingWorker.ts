// A real worker process (the production loop in runWorker.ts) with one test handler,
// `test.record`, that writes an audit row per execution: counting rows per job tells a test
// whether a job ran exactly once. Started by tests as a child process:
//   node --import tsx recordingWorker.ts <databaseUrl> <dataDir>
import { BlobStore, createPrismaClient } from "@rcmnet/db";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startWorker } from "../runWorker.ts";
import { jsonLogger } from "../logger.ts";

const [databaseUrl, dataDir] = process.argv.slice(2);
if (!databaseUrl || !dataDir) throw new Error("usage: recordingWorker.ts <databaseUrl> <dataDir>");
const prisma = createPrismaClient(databaseUrl, { max: 2 });
const log = jsonLogger();
const worker = startWorker({
  prisma,
  blobs: new BlobStore(join(dataDir, "blobs")),
  dataDir,
  log,
  pollMs: 50,
  leaseMs: 5_000,
  handlers: {
    async "test.record"(ctx) {
      await sleep(20);
      await ctx.progress(0.5, "recording");
      await prisma.auditEvent.create({
        data: {
          actorLogin: ctx.workerId,
          action: "test.jobProcessed",
          entityType: "Job",
          entityId: ctx.job.id,
        },
      });
    },
  },
});
process.once("SIGTERM", () => {
  void worker.stop().then(() => prisma.$disconnect());
});
