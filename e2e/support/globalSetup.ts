// Brings the whole platform up for the journeys and returns its teardown:
//   1. a fresh PostgreSQL database, seeded with the fast synthetic e2e profile (prepare.ts)
//   2. the API (tsx apps/api/src/server.ts) and one worker (tsx apps/api/src/worker.ts)
//   3. the dashboard's production build (next build when sources changed, then next start)
// on free ports. Tests read the addresses from process.env (E2E_*), which workers inherit.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const webDir = join(root, "apps/web");
const tsx = join(root, "node_modules/.bin/tsx");
const logDir = join(here, "../.logs");

function log(m: string) {
  process.stdout.write(`[e2e] ${m}\n`);
}

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** next build only when the web sources are newer than the last build (it takes ~1.5 min here). */
function ensureWebBuild() {
  const buildId = join(webDir, ".next/BUILD_ID");
  const sources = ["src", "next.config.ts", "package.json", "tsconfig.json"].map((p) => join(webDir, p)).filter(existsSync);
  const stale = !existsSync(buildId) || Math.max(...sources.map(newestMtime)) > statSync(buildId).mtimeMs || process.env.E2E_REBUILD === "1";
  if (!stale) return log("dashboard build is up to date");
  log("building the dashboard (next build)...");
  const t0 = Date.now();
  const r = spawnSync(join(root, "node_modules/.bin/next"), ["build"], { cwd: webDir, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (r.status !== 0) throw new Error("next build failed");
  log(`dashboard built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

const children: { name: string; child: ChildProcess }[] = [];

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, cwd = root) {
  const out = createWriteStream(join(logDir, `${name}.log`));
  // Own process group, so teardown can stop the child and whatever it spawned (next start forks).
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  child.on("exit", (code, signal) => {
    if (!stopping) log(`${name} exited early (${signal ?? code}); see e2e/.logs/${name}.log`);
  });
  children.push({ name, child });
  return child;
}

async function waitFor(url: string, what: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { redirect: "manual" });
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer at ${url} within ${timeoutMs / 1000} s (logs in e2e/.logs)`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

let stopping = false;

async function stopAll() {
  stopping = true;
  for (const { child } of [...children].reverse()) {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
  await Promise.all(
    children.map(({ child }) =>
      child.exitCode !== null
        ? undefined
        : new Promise<void>((r) => {
            const t = setTimeout(() => {
              try {
                if (child.pid) process.kill(-child.pid, "SIGKILL");
              } catch {
                // gone
              }
              r();
            }, 5000);
            child.once("exit", () => {
              clearTimeout(t);
              r();
            });
          }),
    ),
  );
}

export default async function globalSetup() {
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(chromium)) throw new Error(`${chromium} is missing: apt-get install -y chromium (never npx playwright install)`);
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const t0 = Date.now();

  ensureWebBuild();

  const dataDir = mkdtempSync(join(tmpdir(), "rcmnet-e2e-"));
  log("creating and seeding the test database...");
  const prep = spawnSync(tsx, [join(here, "prepare.ts"), dataDir], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: process.env });
  if (prep.status !== 0) throw new Error("database preparation failed (see the output above)");
  const prepared = JSON.parse(prep.stdout.trim().split("\n").at(-1)!) as { databaseUrl: string; databaseName: string; fields: string[]; bad: string };

  const apiPort = await freePort();
  let webPort = await freePort();
  while (webPort === apiPort) webPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const webUrl = `http://127.0.0.1:${webPort}`;
  const serverEnv = {
    NODE_ENV: "test",
    DATABASE_URL: prepared.databaseUrl,
    RCMNET_DATA_DIR: dataDir,
    RCMNET_AUTH_SECRET: randomBytes(32).toString("base64url"),
    RCMNET_LOG_LEVEL: "error",
    API_PORT: String(apiPort),
    API_HOST: "127.0.0.1",
  };
  start("api", tsx, ["apps/api/src/server.ts"], serverEnv);
  start("worker", tsx, ["apps/api/src/worker.ts"], serverEnv);
  start("web", join(root, "node_modules/.bin/next"), ["start", "-p", String(webPort), "-H", "127.0.0.1"], {
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    API_URL: apiUrl,
    NEXTAUTH_URL: webUrl,
    NEXTAUTH_SECRET: randomBytes(32).toString("base64url"),
  }, webDir);
  await Promise.all([waitFor(`${apiUrl}/health`, "API", 60_000), waitFor(`${webUrl}/login`, "dashboard", 60_000)]);
  log(`platform up in ${((Date.now() - t0) / 1000).toFixed(0)} s: web ${webUrl}, api ${apiUrl}`);

  Object.assign(process.env, {
    E2E_BASE_URL: webUrl,
    E2E_API_URL: apiUrl,
    E2E_FIELDS: prepared.fields.join(","),
    E2E_BAD_FILE: prepared.bad,
  });

  return async () => {
    await stopAll();
    spawnSync(tsx, [join(here, "dropDatabase.ts"), prepared.databaseName], { cwd: root, stdio: "inherit" });
    if (!process.env.E2E_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
  };
}

// A crash of the runner must not leave servers behind.
process.once("exit", () => {
  if (stopping) return;
  for (const { child } of children) {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});
