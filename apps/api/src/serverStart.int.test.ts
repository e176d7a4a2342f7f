// The API process (server.ts) at start, as a real child process: a DATABASE_URL that can never work
// ends it with one error line and exit 2 (a supervisor told not to restart on 2 stops there), alone
// or as a cluster's primary; an HTTP worker of the cluster that cannot listen (the port taken) stops
// the whole API with exit 2 instead of being forked again every second for ever. A configuration
// the API or the worker refuses (API_PORT=abc) is as permanent: one line and exit 2.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, freePort, testServerUrl, withDatabaseName } from "@rcmnet/db/testing";
import { describe, expect, it } from "vitest";
import { spawnWorker } from "./jobs/testing/spawnWorker.ts";

const errorLines = (output: string) =>
  output
    .split("\n")
    .filter((l) => l.includes('"level":"error"'))
    .map((l) => JSON.parse(l).msg as string);

async function exitOf(env: NodeJS.ProcessEnv, dataDir: string, script = "./server.ts") {
  const api = spawnWorker(new URL(script, import.meta.url), [], { NODE_ENV: "development", RCMNET_DATA_DIR: dataDir, ...env });
  // An API that keeps trying (or serves) is ended here, and fails the test below.
  const forEver = setTimeout(() => api.child.kill("SIGKILL"), 60_000);
  const [code] = await once(api.child, "exit");
  clearTimeout(forEver);
  return { code: code as number | null, output: api.output() };
}

describe("the API's start", () => {
  it("ends with exit 2 and one line, not a stack trace, on a configuration it refuses: the API and the worker alike", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "rcmnet-api-start-"));
    try {
      const refused: [NodeJS.ProcessEnv, string][] = [
        [{ API_PORT: "abc" }, "Invalid API configuration: API_PORT: not a port number (an empty value is not 0: unset it for the default, 4000)"],
        [{ NODE_ENV: "production", RCMNET_AUTH_SECRET: undefined }, "RCMNET_AUTH_SECRET is required in production"],
      ];
      for (const [script, who] of [["./server.ts", "api"], ["./worker.ts", "worker"]]) {
        for (const [env, message] of refused) {
          const { code, output } = await exitOf({ ...env, DATABASE_URL: undefined }, dataDir, script);
          expect(code, output).toBe(2);
          expect(output.trim().split("\n"), output).toHaveLength(1);
          expect(errorLines(output), output).toEqual([`${who} not started: ${message}`]);
        }
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 150_000);

  it("ends with exit 2 and one line naming the fault when DATABASE_URL names a database that does not exist, alone or as a cluster's primary", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "rcmnet-api-start-"));
    try {
      const url = withDatabaseName(testServerUrl, `rcmnet_no_such_db_${randomBytes(4).toString("hex")}`);
      for (const workers of ["1", "2"]) {
        // The database is refused before any port is opened.
        const { code, output } = await exitOf({ DATABASE_URL: url, API_WORKERS: workers, API_PORT: "1" }, dataDir);
        expect(code, output).toBe(2);
        expect(errorLines(output), output).toEqual([expect.stringMatching(/^api not started: the database named in DATABASE_URL does not exist.*correct DATABASE_URL/)]);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 150_000);

  it("ends with exit 2 and one line when production refuses a database role that could rewrite the audit trail", async () => {
    const db = await createTestDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), "rcmnet-api-start-"));
    try {
      // The test server's role is a superuser: what a production start refuses (D14).
      const { code, output } = await exitOf({ NODE_ENV: "production", RCMNET_AUTH_SECRET: "x".repeat(40), DATABASE_URL: db.url, API_PORT: "1" }, dataDir);
      expect(code, output).toBe(2);
      expect(errorLines(output), output).toEqual([expect.stringMatching(/^api not started: .*Refusing to start in production/)]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await db.drop();
    }
  }, 150_000);

  it("says at start that audit exports will be refused when the managed export key is missing, and serves", async () => {
    const db = await createTestDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), "rcmnet-api-start-"));
    const probe: Server = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = String((probe.address() as { port: number }).port);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const api = spawnWorker(new URL("./server.ts", import.meta.url), [], {
      NODE_ENV: "development",
      RCMNET_DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      API_PORT: port,
      RCMNET_AUDIT_SIGNING_KEY_FILE: join(dataDir, "mounted", "audit-key.pem"),
    });
    try {
      await api.waitFor(/audit exports will be refused: audit export signing key .*audit-key\.pem: does not exist/);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
    } finally {
      await api.stop();
      await rm(dataDir, { recursive: true, force: true });
      await db.drop();
    }
  }, 150_000);

  it("stops a cluster whose HTTP workers cannot listen (the port taken) with exit 2, rather than forking them again for ever", async () => {
    const db = await createTestDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), "rcmnet-api-start-"));
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = String((taken.address() as { port: number }).port);
      const { code, output } = await exitOf({ DATABASE_URL: db.url, API_WORKERS: "2", API_PORT: port, API_HOST: "127.0.0.1" }, dataDir);
      expect(code, output).toBe(2);
      expect(output).toContain("api worker stopped on a fault a restart cannot clear; stopping the api");
      expect(output).not.toContain("starting another");
      // One process alone: the same exit 2, and never "listening".
      const alone = await exitOf({ DATABASE_URL: db.url, API_WORKERS: "1", API_PORT: port, API_HOST: "127.0.0.1" }, dataDir);
      expect(alone.code, alone.output).toBe(2);
      expect(alone.output).toContain("api failed to listen");
      expect(alone.output).not.toContain("api listening");
    } finally {
      taken.close();
      await rm(dataDir, { recursive: true, force: true });
      await db.drop();
    }
  }, 150_000);
});

/** scripts/start.ts run in `cwd` with `env`: its exit code and everything it printed. */
async function startExit(cwd: string, env: NodeJS.ProcessEnv) {
  const start = fileURLToPath(new URL("../../../scripts/start.ts", import.meta.url));
  const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
  const child = spawn(tsx, [start], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const forEver = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const [code] = await once(child, "exit");
  clearTimeout(forEver);
  return { code: code as number | null, output };
}

describe("npm start (scripts/start.ts)", () => {
  it("stops with exit 2 on a real install with no first administrator to create (no restart clears it)", async () => {
    const db = await createTestDatabase();
    const cwd = await mkdtemp(join(tmpdir(), "rcmnet-npm-start-"));
    try {
      const { code, output } = await startExit(cwd, {
        DATABASE_URL: db.url,
        RCMNET_ALLOW_OWNER_ROLE: "1",
        RCMNET_DATA_DIR: join(cwd, "data"),
        RCMNET_ADMIN_LOGIN: undefined,
        RCMNET_ADMIN_PASSWORD: undefined,
        RCMNET_DEMO: undefined,
        API_PORT: String(await freePort()),
        WEB_PORT: String(await freePort()),
      });
      expect({ code, failed: output.match(/start failed: .*/)?.[0] }, output).toMatchObject({ code: 2, failed: expect.stringMatching(/RCMNET_ADMIN_LOGIN/) });
    } finally {
      await rm(cwd, { recursive: true, force: true });
      await db.drop();
    }
  }, 120_000);

  it("refuses an empty RCMNET_DATA_DIR, WEB_HOST, API_HOST, WEB_PORT or API_PORT with one line and exit 2, writing nothing where it was started", async () => {
    for (const name of ["RCMNET_DATA_DIR", "WEB_HOST", "API_HOST", "WEB_PORT", "API_PORT"]) {
      const cwd = await mkdtemp(join(tmpdir(), "rcmnet-npm-start-"));
      try {
        // Started where an empty data dir would resolve to: the process's own directory.
        const { code, output } = await startExit(cwd, { DATABASE_URL: "", [name]: "" });
        expect({ name, code, output: output.trim() }).toMatchObject({ name, code: 2, output: expect.stringMatching(new RegExp(`^\\[rcmnet\\] start failed: ${name}: (empty|not a port number)`)) });
        expect(output.trim().split("\n"), output).toHaveLength(1);
        expect(await readdir(cwd)).toEqual([]);
      } finally {
        await rm(cwd, { recursive: true, force: true });
      }
    }
  });
});
