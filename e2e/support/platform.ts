// Starting and stopping the platform's processes for the e2e setup and the page-speed bench:
// plain Node (no workspace imports), so Playwright's loader and tsx both run it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@rcmnet/db/testing";

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, "../..");
export const webDir = join(root, "apps/web");
export const tsx = join(root, "node_modules/.bin/tsx");
const next = join(root, "node_modules/.bin/next");

export function log(m: string) {
  process.stdout.write(`[e2e] ${m}\n`);
}

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/**
 * next build only when the web sources changed since the last build (it takes 1-2.5 min here).
 * The newest source mtime seen when a build STARTS is recorded next to it: a file saved while
 * a build runs is newer than that stamp, so the next run rebuilds.
 */
export function ensureWebBuild() {
  const stamp = join(webDir, ".next/e2e-sources-mtime");
  const sources = ["src", "next.config.ts", "package.json", "tsconfig.json"].map((p) => join(webDir, p)).filter(existsSync);
  const newest = Math.max(...sources.map(newestMtime));
  const built = existsSync(join(webDir, ".next/BUILD_ID")) && existsSync(stamp) ? Number(readFileSync(stamp, "utf8")) : -1;
  if (newest <= built && process.env.E2E_REBUILD !== "1") return log("dashboard build is up to date");
  log("building the dashboard (next build)...");
  const t0 = Date.now();
  const r = spawnSync(next, ["build"], { cwd: webDir, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (r.status !== 0) throw new Error("next build failed");
  writeFileSync(stamp, String(newest));
  log(`dashboard built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

async function waitFor(url: string, what: string, timeoutMs: number, alive: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { redirect: "manual" });
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    if (!alive()) throw new Error(`${what} exited before answering (see its log)`);
    if (Date.now() > deadline) throw new Error(`${what} did not answer at ${url} within ${timeoutMs / 1000} s (see its log)`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export interface Platform {
  apiUrl: string;
  webUrl: string;
  stop(): Promise<void>;
}

/** API + worker (optional) + the dashboard (scripts/serve.ts), each in its own process group, logs in logDir. */
export async function startPlatform(options: { databaseUrl: string; dataDir: string; logDir: string; worker?: boolean }): Promise<Platform> {
  mkdirSync(options.logDir, { recursive: true });
  const children: { name: string; child: ChildProcess }[] = [];
  let stopping = false;

  const start = (name: string, command: string, args: string[], env: NodeJS.ProcessEnv, cwd = root) => {
    const out = createWriteStream(join(options.logDir, `${name}.log`));
    // Own process group, so stop() ends the child and whatever it spawned (tsx and Next fork).
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    child.on("exit", (code, signal) => {
      if (!stopping) log(`${name} exited early (${signal ?? code}); see ${join(options.logDir, `${name}.log`)}`);
    });
    children.push({ name, child });
    return child;
  };

  const signalAll = (signal: NodeJS.Signals) => {
    for (const { child } of children) {
      if (child.pid && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      }
    }
  };
  // A crash of the runner must not leave servers behind.
  const onExit = () => signalAll("SIGKILL");
  process.once("exit", onExit);

  const stop = async () => {
    stopping = true;
    signalAll("SIGTERM");
    await Promise.all(
      children.map(({ child }) =>
        child.exitCode !== null || child.signalCode !== null
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
    process.removeListener("exit", onExit);
  };

  const apiPort = await freePort();
  let webPort = await freePort();
  while (webPort === apiPort) webPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const webUrl = `http://127.0.0.1:${webPort}`;
  const serverEnv = {
    NODE_ENV: "test",
    DATABASE_URL: options.databaseUrl,
    RCMNET_DATA_DIR: options.dataDir,
    RCMNET_AUTH_SECRET: randomBytes(32).toString("base64url"),
    RCMNET_LOG_LEVEL: "error",
    // The journey's snapshot has a handful of TEST cells (a few signed-out cases), far under the
    // default minimum a promotion rests on (100); the refusal itself is tested in the API's tests.
    RCMNET_MIN_TEST_CELLS: "1",
    API_PORT: String(apiPort),
    API_HOST: "127.0.0.1",
  };
  try {
    const api = start("api", tsx, ["apps/api/src/server.ts"], serverEnv);
    if (options.worker !== false) start("worker", tsx, ["apps/api/src/worker.ts"], serverEnv);
    const web = start(
      "web",
      tsx,
      ["scripts/serve.ts", "--port", String(webPort), "--hostname", "127.0.0.1"],
      { NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", API_URL: apiUrl, NEXTAUTH_URL: webUrl, NEXTAUTH_SECRET: randomBytes(32).toString("base64url") },
      webDir,
    );
    await Promise.all([
      waitFor(`${apiUrl}/health`, "API", 90_000, () => api.exitCode === null),
      waitFor(`${webUrl}/login`, "dashboard", 90_000, () => web.exitCode === null),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { apiUrl, webUrl, stop };
}
