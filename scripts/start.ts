// `npm start`: the whole platform on one machine.
// Opens the database (DATABASE_URL, else the embedded PGlite server, migrated). On the embedded
// database (or with RCMNET_DEMO=1) it seeds demo users, cases and a champion model; on your own
// PostgreSQL it seeds nothing with a published password: the first administrator comes from
// RCMNET_ADMIN_LOGIN / RCMNET_ADMIN_PASSWORD (seed/install.ts). Then it writes a line to the audit
// anchor file and runs the API, two workers (slide analysis, which anchors; training) and the
// dashboard as child processes until Ctrl-C, which stops the anchoring worker last. Secrets are generated once into the data dir.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join, resolve } from "node:path";
import { createPrismaClient, MigrationError, openDatabase, PlatformRoleError, repoRoot } from "@rcmnet/db";
import { ConfigurationError, isConfigurationError, launcherPort, launcherSetting, loadEnv } from "../apps/api/src/env.ts";
import { permanentDatabaseFault } from "../apps/api/src/jobs/permanentDatabaseFault.ts";
import { anchorAuditHead } from "../apps/api/src/jobs/anchorAuditHead.ts";
import { jsonLogger } from "../apps/api/src/jobs/logger.ts";
import { DEMO_USERS } from "../apps/api/src/seed/demoUsers.ts";
import { demoNetworkRefusal, demoWanted } from "../apps/api/src/seed/demoNetwork.ts";

// No call home from a clinical install: Next.js and turbo send usage telemetry unless told not to.
process.env.NEXT_TELEMETRY_DISABLED ??= "1";
process.env.TURBO_TELEMETRY_DISABLED ??= "1";

const tsx = join(repoRoot, "node_modules/.bin/tsx");

// Real smear fields make a better demo than synthetic ones: use the BCCD set beside the
// checkout when it is there (the seed falls back to synthetic fields otherwise).
const bccdBeside = resolve(repoRoot, "../shared/datasets/bccd");
const demoFields = process.env.RCMNET_DEMO_FIELDS ?? (existsSync(bccdBeside) ? bccdBeside : undefined);
// The first administrator's password is read once, here, and taken out of the environment before
// anything is launched (the dashboard build, the API, the workers): no child process needs it.
const firstAdminPassword = process.env.RCMNET_ADMIN_PASSWORD;
delete process.env.RCMNET_ADMIN_PASSWORD;

function log(message: string) {
  console.log(`[rcmnet] ${message}`);
}

/** Per-install secrets: generated on first start, kept (0600) so sessions survive restarts. */
function localSecrets(dataDir: string): { authSecret: string; nextAuthSecret: string } {
  const file = join(dataDir, "secrets.json");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const secrets = {
      authSecret: randomBytes(32).toString("base64url"),
      nextAuthSecret: randomBytes(32).toString("base64url"),
    };
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(file, "utf8"));
}

function ensureWebBuild() {
  const webDir = join(repoRoot, "apps/web");
  if (existsSync(join(webDir, ".next/BUILD_ID")) && !process.env.RCMNET_REBUILD_WEB) return;
  log("building the dashboard (first start only; set RCMNET_REBUILD_WEB=1 to rebuild)...");
  const r = spawnSync("npm", ["run", "build", "-w", "@rcmnet/web"], { cwd: repoRoot, stdio: "inherit" });
  if (r.status !== 0) throw new Error("dashboard build failed");
}

async function waitFor(url: string, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      // A request the service never answers (one lost in a burst at start-up) is asked again,
      // rather than holding the start for ever.
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} did not come up at ${url}`);
}

/** Fails fast with a clear message instead of "starting" next to a stale instance. */
function assertPortFree(port: number, variable: string): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const probe = net.createServer();
    probe.once("error", () =>
      reject(new Error(`port ${port} is already in use (another instance still running?); stop it or set ${variable}`)),
    );
    probe.listen(port, () => probe.close(() => resolvePort()));
  });
}

const children: ChildProcess[] = [];
/** The worker that writes the audit anchor file: stopped after the others (see shutdown). */
let anchoringChild: ChildProcess | null = null;
let stopping = false;

function run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, cwd = repoRoot) {
  // Each child leads its own process group, so stopping it also stops what it spawned
  // (tsx and Next.js run the real server in a grandchild process).
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => `[${name}] ${line}\n`)
      .join("");
  child.stdout?.on("data", (c: Buffer) => process.stdout.write(prefix(c)));
  child.stderr?.on("data", (c: Buffer) => process.stderr.write(prefix(c)));
  child.on("exit", (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${signal ?? code}); stopping the platform`);
      // A part that stopped for good (exit 2: a refused configuration or DATABASE_URL) stops the
      // platform for good too: restarting would only repeat it.
      void shutdown(code === 2 ? 2 : 1);
    }
  });
  children.push(child);
  return child;
}

let closeDatabase: () => Promise<void> = async () => {};

/** SIGTERM to each child (its process group), resolved once every one has exited. */
async function stopChildren(which: ChildProcess[]): Promise<void> {
  for (const child of which) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
  await Promise.all(which.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : Promise.resolve())));
}

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  // The anchoring worker last: its clean stop anchors the head once more, which then covers the
  // events the API and the trainer write while they stop (sign-outs, a training run given back).
  await stopChildren(children.filter((c) => c !== anchoringChild));
  if (anchoringChild) await stopChildren([anchoringChild]);
  await closeDatabase();
  process.exit(code);
}

/**
 * Writes a line to the audit anchor file before anything else starts (docs/decisions.md D2). The
 * verifier fails once the file's newest line is older than two intervals and 5 minutes by its
 * host's clock, and the worker writes its first half a minute after its model backend has
 * loaded: after a stop longer than that, every check until then would fail. Nothing else uses
 * the database now, which on the embedded one (one session for every connection) is why the
 * worker waits. A failure is said and the start goes on: the worker logs it at every tick, and
 * verification fails while it lasts.
 */
async function anchorBeforeStart(databaseUrl: string, env: NodeJS.ProcessEnv): Promise<void> {
  // The analysis worker's configuration: the file it writes, the interval it declares.
  const config = loadEnv({ ...process.env, ...env });
  if (config.auditAnchorMinutes === 0) return;
  const prisma = createPrismaClient(databaseUrl, { max: 1 });
  try {
    await anchorAuditHead(prisma, config.auditAnchorFile, { log: jsonLogger({ service: "launcher" }), everyMinutes: config.auditAnchorMinutes });
  } catch (err) {
    console.error(`[rcmnet] audit chain head not anchored before start-up: ${(err as Error).message}`);
  } finally {
    await prisma.$disconnect();
  }
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

async function main() {
  // Before anything is written: an empty RCMNET_DATA_DIR would be the current directory (the
  // checkout), an empty API_HOST or WEB_HOST every interface, not their defaults (launcherSetting).
  const dataDir = resolve(launcherSetting(process.env, "RCMNET_DATA_DIR"));
  const webHost = launcherSetting(process.env, "WEB_HOST");
  // The API refuses it as well, but only once the database is opened and seeded.
  launcherSetting(process.env, "API_HOST");
  const webPort = launcherPort(process.env, "WEB_PORT", 3000);
  const apiPort = launcherPort(process.env, "API_PORT", 4000);
  // The demo's published passwords stay on this machine unless RCMNET_DEMO_ON_NETWORK=1 says
  // otherwise: checked before anything is opened or seeded.
  const refusal = demoNetworkRefusal(process.env);
  if (refusal) throw new ConfigurationError(refusal);
  await assertPortFree(apiPort, "API_PORT");
  await assertPortFree(webPort, "WEB_PORT");
  const secrets = localSecrets(dataDir);
  log(`data directory: ${dataDir}`);
  // A real install runs the API in production (below), which refuses a DATABASE_URL that could
  // change the audit trail unless RCMNET_ALLOW_OWNER_ROLE=1: refused here first, before any seeding.
  const db = await openDatabase({
    databaseUrl: process.env.DATABASE_URL,
    migrationUrl: process.env.RCMNET_MIGRATION_DATABASE_URL,
    dataDir,
    production: !demoWanted(process.env) || process.env.NODE_ENV === "production",
  });
  closeDatabase = db.close;
  log(db.embedded ? "embedded PostgreSQL (PGlite) on 127.0.0.1:5433, migrated" : "PostgreSQL migrated");

  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: db.url,
    // The API and workers check the role of DATABASE_URL: the embedded database's one role (a
    // superuser) is said nothing of outside production, as here; 0 overrides one set by hand.
    RCMNET_EMBEDDED_DATABASE: db.embedded ? "1" : "0",
    RCMNET_DATA_DIR: dataDir,
    RCMNET_AUTH_SECRET: process.env.RCMNET_AUTH_SECRET ?? secrets.authSecret,
    NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET ?? secrets.nextAuthSecret,
    NEXTAUTH_URL: process.env.NEXTAUTH_URL ?? `http://localhost:${webPort}`,
    API_PORT: String(apiPort),
    API_URL: `http://127.0.0.1:${apiPort}`,
    WEB_PORT: String(webPort),
  };

  // Demo logins have published passwords: only on the embedded database, or when asked for.
  const demo = db.embedded || process.env.RCMNET_DEMO === "1";
  if (demo) {
    const { seedDemo } = await import("../apps/api/src/seed/demo.ts");
    await seedDemo({ databaseUrl: db.url, dataDir, log, embedded: db.embedded, ...(demoFields ? { fieldsDir: demoFields } : {}) });
  } else {
    const { prepareInstall } = await import("../apps/api/src/seed/install.ts");
    await prepareInstall({
      databaseUrl: db.url,
      dataDir,
      log,
      admin: { login: process.env.RCMNET_ADMIN_LOGIN, password: firstAdminPassword, displayName: process.env.RCMNET_ADMIN_NAME },
      modelDir: process.env.RCMNET_MODEL_DIR,
    });
  }

  // A real install runs the API as production (no schema introspection, secrets required).
  if (!demo) env.NODE_ENV = "production";
  const signIn = demo
    ? `    Demo logins (login / password / role)\n${DEMO_USERS.map((u) => `      ${u.login.padEnd(7)} / ${u.password.padEnd(18)} ${u.role}`).join("\n")}\n`
    : "    Sign in with the administrator account; add users under Users.\n";

  ensureWebBuild();
  await anchorBeforeStart(db.url, env);
  run("api", tsx, ["apps/api/src/server.ts"], env);
  // Two workers: slide analysis never waits behind a training run that takes hours. The analysis
  // worker also re-predicts open cases after a champion change (inference too; it steps back
  // between cases whenever a slide analysis is waiting).
  anchoringChild = run("worker", tsx, ["apps/api/src/worker.ts"], { ...env, RCMNET_WORKER_JOBS: "analyzeSlide,repredictOpenCases" });
  // One writer of the audit anchor file is enough here (the analysis worker), and on the embedded
  // database, which is one PostgreSQL session shared by every connection, a second worker's
  // anchoring transaction at the same moment interleaves with the first's.
  run("trainer", tsx, ["apps/api/src/worker.ts"], { ...env, RCMNET_WORKER_JOBS: "trainModel", RCMNET_AUDIT_ANCHOR_MINUTES: "0" });
  await waitFor(`http://127.0.0.1:${apiPort}/health`, "API");
  // webHost: loopback unless WEB_HOST says otherwise, like the API (API_HOST): the demo's
  // published passwords must not open the dashboard to the whole network.
  run("web", tsx, ["scripts/serve.ts", "--port", String(webPort), "--hostname", webHost], env, join(repoRoot, "apps/web"));
  await waitFor(`http://127.0.0.1:${webPort}/login`, "dashboard");

  console.log(`
  RCMNet platform is running

    Dashboard    http://localhost:${webPort}
    GraphQL API  http://localhost:${apiPort}/graphql   (health: /health)

${signIn}

  Ctrl-C stops everything.
`);
}

main().catch(async (err) => {
  const fault = permanentDatabaseFault(err);
  // With an owner URL set, the launcher connects through it first (to migrate and grant): the
  // fault's own words name DATABASE_URL, which may be the one that is right.
  const said = fault && process.env.RCMNET_MIGRATION_DATABASE_URL ? `${(err as Error).message} (check RCMNET_MIGRATION_DATABASE_URL, used to migrate, and DATABASE_URL)` : (fault?.message ?? (err as Error).message);
  console.error(`[rcmnet] start failed: ${said}`);
  // Exit 2 where no restart can help (docs/operations.md: RestartPreventExitStatus=2): a setting
  // refused (a first administrator missing or refused, a model RCMNET_MODEL_DIR names refused), a
  // DATABASE_URL that can never work, a role that could rewrite the trail, a database history this
  // version cannot migrate (a newer version's). Else 1 (a port still taken, a dashboard build that
  // failed, a migration that failed as it ran) may be worth a retry.
  const permanent = isConfigurationError(err) || err instanceof PlatformRoleError || (err instanceof MigrationError && err.permanent) || fault !== null;
  await shutdown(permanent ? 2 : 1);
});
