// The job worker process: `tsx src/worker.ts` (npm run worker -w @rcmnet/api).
// One job at a time per process; run more processes (on any machines sharing the database and
// the data dir's blob store) to scale out. RCMNET_WORKER_JOBS limits a process to some job types
// (npm start runs one for slide analysis and one for training, so that neither waits for the other). SIGTERM/SIGINT: stop claiming, let the current job
// finish for a grace period, otherwise give it back to the queue (training resumes from its
// checkpoint). Logs are JSON lines with ids only, never patient identifiers.
import { join } from "node:path";
import { BlobStore, checkPlatformRole, createPrismaClient } from "@rcmnet/db";
import { loadEnvOrExit } from "./env.ts";
import { createHandlers, workerJobTypes } from "./jobs/handlers/index.ts";
import { checkRoleBeforeWork } from "./jobs/checkRoleBeforeWork.ts";
import { reconcileFailedAnalyses } from "./jobs/reconcileAnalyses.ts";
import { reconcileTrainingRuns } from "./jobs/reconcileTrainingRuns.ts";
import { sweepOrphanBlobs } from "./jobs/sweepOrphanBlobs.ts";
import { type AuditAnchoring, startAuditAnchoring } from "./jobs/anchorAuditHead.ts";
import { jsonLogger } from "./jobs/logger.ts";
import { ClassifierCache } from "./jobs/model/classifierCache.ts";
import { getModelRuntime, initModelBackend } from "./jobs/model/modelRuntime.ts";
import { defaultWorkerId, startWorker } from "./jobs/runWorker.ts";

const log = jsonLogger({ service: "worker" });
// A configuration refused (API_PORT=80a, production without RCMNET_AUTH_SECRET): one line and
// exit 2, as the faults below.
const env = loadEnvOrExit("worker", (line) => log.error(line));
if (!env.databaseUrl) {
  log.error(
    "DATABASE_URL is required (npm start passes it; the embedded database is opened by the launcher)",
  );
  process.exit(2);
}

// In production, as the API does (openDatabase): a role that could change the audit trail is
// refused unless RCMNET_ALLOW_OWNER_ROLE=1 (docs/decisions.md D2). Outside production the API says so.
// A database not reachable or not migrated yet is waited for: only the refusal, and a DATABASE_URL
// that can never work (wrong password, unknown role or database), exit 2.
if (env.nodeEnv === "production") {
  const databaseUrl = env.databaseUrl;
  await checkRoleBeforeWork(
    () => checkPlatformRole(databaseUrl, { production: true, allowOwnerRole: env.allowOwnerRole ?? false, embedded: env.embeddedDatabase ?? false }),
    { log },
  );
}

const workerId = defaultWorkerId();
// Checked before the slow model backend start.
let jobTypes: string[];
try {
  jobTypes = workerJobTypes(process.env.RCMNET_WORKER_JOBS);
} catch (err) {
  log.error((err as Error).message);
  process.exit(2);
}
// The loop uses one connection at a time plus the heartbeat's; PGlite serialises anyway.
const prisma = createPrismaClient(env.databaseUrl, { max: 3 });

// Installed before the (slow) model backend start, so a stop during startup is clean too.
let stopping = false;
let stopWorker: (() => Promise<void>) | undefined;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info("shutting down", { signal });
  await stopWorker?.();
  await prisma.$disconnect();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

const backend = await initModelBackend();
const runtime = await getModelRuntime();
const classifiers = new ClassifierCache(runtime, env.dataDir);
log.info("model backend ready", { backend });

if (stopping) process.exit(0);
// The chain head copied outside the database half a minute after the model backend has loaded
// and every few minutes, a heartbeat line when it has not moved (docs/decisions.md D2). Not at
// the very start: the start-up burst of queries (seeding, queued analyses, housekeeping) is when
// the embedded database, one session for every connection, interleaves concurrent statements;
// half a minute later it is quiet (npm start writes a line itself before it starts anything).
const FIRST_ANCHOR_AFTER_MS = 30_000;
const anchoring: AuditAnchoring | null =
  env.auditAnchorMinutes > 0 ? startAuditAnchoring(prisma, env.auditAnchorFile, { everyMinutes: env.auditAnchorMinutes, log, firstAfterMs: FIRST_ANCHOR_AFTER_MS }) : null;
const blobs = new BlobStore(join(env.dataDir, "blobs"));
const BLOB_SWEEP_EVERY_MS = 3600_000;
let lastBlobSweep = 0;
const worker = startWorker({
  prisma,
  blobs,
  dataDir: env.dataDir,
  log,
  workerId,
  handlers: createHandlers({ runtime, classifiers, buildCommit: env.buildCommit }, jobTypes),
  onIdle: async () => {
    await reconcileFailedAnalyses(prisma);
    await reconcileTrainingRuns(prisma, env.dataDir);
    // Walking every image file is slow on a large store: hourly is enough for a 24 h grace.
    if (Date.now() - lastBlobSweep >= BLOB_SWEEP_EVERY_MS) {
      lastBlobSweep = Date.now();
      await sweepOrphanBlobs(prisma, blobs, { log });
    }
  },
});
stopWorker = async () => {
  await worker.stop();
  await anchoring?.stop();
  classifiers.dispose();
};
// The loop ends by itself only on a DATABASE_URL that can never work (it logged the fault): exit 2
// as on a refused role, so that a supervisor shows the worker failed, not running. No clean-stop
// anchor line: it could not be written, and this is no clean stop.
void worker.done.then((fault) => {
  if (fault && !stopping) process.exit(2);
});
