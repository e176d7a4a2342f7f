// The HTTP API process: `tsx src/server.ts` (npm start -w @rcmnet/api).
// With API_WORKERS > 1 the primary forks that many HTTP workers sharing the port (node:cluster):
// one Node process saturates one core at ~7 ms CPU per case-review request (docs/performance.md).
import cluster from "node:cluster";
import { join } from "node:path";
import { BlobStore, createPrismaClient, openDatabase, PlatformRoleError } from "@rcmnet/db";
import { loadEnvOrExit } from "./env.ts";
import { createApp } from "./app.ts";
import { closeIdleSessions } from "./auth/sessions.ts";
import { createLogger, describeError } from "./log.ts";
import { permanentDatabaseFault } from "./jobs/permanentDatabaseFault.ts";
import { exportKeyProblem } from "./modules/audit/exportSigningKey.ts";

// A configuration refused (API_PORT=80a): one line and exit 2, as the faults below. Said at error
// level whatever RCMNET_LOG_LEVEL says, since that is unread (it may be the setting refused).
const env = loadEnvOrExit("api", (line) => createLogger("error").error(line));
const log = createLogger(env.logLevel);
// In production a DATABASE_URL whose role could change the audit trail is refused (docs/decisions.md D2).
const databaseOptions = {
  databaseUrl: env.databaseUrl,
  migrationUrl: env.migrationUrl,
  dataDir: env.dataDir,
  production: env.nodeEnv === "production",
  allowOwnerRole: env.allowOwnerRole ?? false,
  // npm start's embedded database: its one role is said nothing of outside production.
  embedded: env.embeddedDatabase ?? false,
  // An HTTP worker of the cluster: its primary checked the role (and said so once).
  checkRole: cluster.isPrimary,
};

try {
  if (env.workers > 1 && cluster.isPrimary) await runPrimary();
  else await runServer();
} catch (err) {
  // A DATABASE_URL that can never work (wrong password, unknown role or database): one line and
  // exit 2, which a supervisor can be told not to restart on (systemd's RestartPreventExitStatus=2).
  // Anything else at start (the database still starting, say) exits 1, as an uncaught error did.
  // A role refused in production (PlatformRoleError: D14) is as permanent: exit 2, as the worker's.
  const fault = permanentDatabaseFault(err);
  const refused = err instanceof PlatformRoleError;
  if (fault) log.error(`api not started: ${fault.message}`);
  else if (refused) log.error(`api not started: ${err.message}`);
  else log.error("api not started", describeError(err));
  process.exit(fault || refused ? 2 : 1);
}

async function runPrimary() {
  // The primary opens (and, when embedded, serves) the database once; workers get its URL.
  const db = await openDatabase(databaseOptions);
  let closing = false;
  const fork = () => cluster.fork({ DATABASE_URL: db.url });
  for (let i = 0; i < env.workers; i++) fork();
  cluster.on("exit", (worker, code, signal) => {
    if (closing) return;
    // Exit 2: a fault another start cannot clear (its own line says which): forking again every
    // second would show a running API that never serves. The whole API stops, with the same code.
    if (code === 2) {
      log.error("api worker stopped on a fault a restart cannot clear; stopping the api", { pid: worker.process.pid });
      void shutdown("worker exit 2", 2);
      return;
    }
    log.error("api worker died; starting another", { pid: worker.process.pid, code, signal });
    setTimeout(fork, 1000);
  });
  const shutdown = async (signal: string, exitCode = 0) => {
    if (closing) return;
    closing = true;
    log.info("api shutting down", { signal });
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 1500));
    await db.close();
    process.exit(exitCode);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

async function runServer() {
  // Normally the launcher passes DATABASE_URL (its embedded server or a real one); standalone, the
  // API opens the embedded database itself.
  const db = await openDatabase(databaseOptions);
  const prisma = createPrismaClient(db.url);
  const blobs = new BlobStore(join(env.dataDir, "blobs"));
  const { app, stop } = await createApp({ prisma, blobs, env, log });

  // Express 5 hands a listen error to this callback too: "listening" is said only on the event.
  const server = app.listen(env.port, env.host, () => undefined);
  // Before anything is awaited: a listen error comes within the same turn of the event loop.
  server.on("error", (err) => {
    log.error("api failed to listen", describeError(err));
    // The address taken or not allowed: another start gets the same answer (exit 2, as above).
    const code = (err as NodeJS.ErrnoException).code;
    process.exit(code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL" ? 2 : 1);
  });
  server.on("listening", () => {
    log.info("api listening", { url: `http://${env.host}:${env.port}/graphql`, embeddedDatabase: db.embedded, pid: process.pid });
  });
  // Said at start, not only to the auditor whose export fails: the API still serves everything else.
  const keyProblem = await exportKeyProblem(env);
  if (keyProblem) log.error(`audit exports will be refused: ${keyProblem}`);
  // Sessions left idle are closed and audited even when their browser never comes back.
  const sweep = setInterval(() => {
    closeIdleSessions(prisma, env).catch((err: unknown) => log.error("idle session sweep failed", describeError(err)));
  }, 60_000);
  sweep.unref();

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info("api shutting down", { signal });
    // Never hang on the way out (a stuck client socket or pool): exit after 5 s regardless.
    setTimeout(() => {
      log.error("api shutdown timed out; exiting");
      process.exit(1);
    }, 5000).unref();
    clearInterval(sweep);
    server.close();
    // Idle keep-alive sockets would hold close() open for seconds.
    server.closeIdleConnections();
    log.debug("shutdown: http closed");
    await stop();
    log.debug("shutdown: apollo stopped");
    await prisma.$disconnect();
    log.debug("shutdown: prisma disconnected");
    await db.close();
    log.debug("shutdown: database closed");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}
