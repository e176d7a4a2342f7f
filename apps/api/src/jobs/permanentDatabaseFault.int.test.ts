// A worker pointed at a database that can never work stops with the fault (worker.ts then exits
// 2); one pointed at a database that is only not migrated yet keeps trying. On the real server,
// with @rcmnet/db's client: the errors are what it throws, not shapes written by hand. (A wrong
// password cannot be shown here: the local server trusts every local role.)
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkPlatformRole, createPrismaClient } from "@rcmnet/db";
import { testServerUrl, withDatabaseName } from "@rcmnet/db/testing";
import pg from "pg";
import { describe, expect, it, vi } from "vitest";
import { permanentDatabaseFault } from "./permanentDatabaseFault.ts";
import { startWorker } from "./runWorker.ts";
import { spawnWorker } from "./testing/spawnWorker.ts";

function logger() {
  return { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

function withRole(serverUrl: string, role: string): string {
  const url = new URL(serverUrl);
  url.username = role;
  url.password = "";
  return url.toString();
}

/** A worker loop on `url`, polling fast; its client closed once the loop has ended. */
async function workerOn(url: string, run: (worker: ReturnType<typeof startWorker>, log: ReturnType<typeof logger>) => Promise<void>) {
  const prisma = createPrismaClient(url, { max: 2 });
  const log = logger();
  const worker = startWorker({ prisma, blobs: undefined as never, dataDir: "/nonexistent", log, handlers: { t: async () => {} }, pollMs: 20, shutdownGraceMs: 100 });
  try {
    await run(worker, log);
  } finally {
    await worker.stop();
    await prisma.$disconnect();
  }
}

const suffix = randomBytes(4).toString("hex");

describe("a worker's database faults", () => {
  it("stops the loop on an unknown database or role, logging one line that names it and DATABASE_URL", async () => {
    const wrong = [
      [withDatabaseName(testServerUrl, `rcmnet_no_such_db_${suffix}`), "3D000", /database named in DATABASE_URL does not exist/],
      [withRole(testServerUrl, `rcmnet_no_such_role_${suffix}`), "28000", /role in nowhere/],
    ] as const;
    for (const [url, sqlstate, what] of wrong) {
      await workerOn(url, async (worker, log) => {
        expect(await worker.done).toMatchObject({ sqlstate });
        expect(log.error).toHaveBeenCalledExactlyOnceWith(expect.stringMatching(what), { sqlstate });
        expect(log.error.mock.calls[0]![0]).toMatch(/^worker stopped: .*correct DATABASE_URL/);
      });
    }
  });

  it("keeps trying a database that is not migrated yet, and stops only when told", async () => {
    const name = `rcmnet_unmigrated_${suffix}`;
    const admin = new pg.Client({ connectionString: testServerUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    try {
      await workerOn(withDatabaseName(testServerUrl, name), async (worker, log) => {
        await vi.waitFor(() => expect(log.error.mock.calls.filter(([m]) => m === "worker loop error").length).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
        let ended = false;
        void worker.done.then(() => (ended = true));
        await new Promise((r) => setTimeout(r, 50));
        expect(ended).toBe(false);
        await worker.stop();
        expect(await worker.done).toBeNull();
      });
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });

  it("names the faults checkPlatformRole's own client meets (a production worker's first contact)", async () => {
    const refusal = (url: string) => checkPlatformRole(url, { production: true, allowOwnerRole: false }).then(() => null, permanentDatabaseFault);
    expect(await refusal(withDatabaseName(testServerUrl, `rcmnet_no_such_db_${suffix}`))).toMatchObject({ sqlstate: "3D000" });
    expect(await refusal(withRole(testServerUrl, `rcmnet_no_such_role_${suffix}`))).toMatchObject({ sqlstate: "28000" });
    // Nothing listening: may heal.
    const closedPort = new URL(testServerUrl);
    closedPort.port = "1";
    expect(await refusal(closedPort.toString())).toBeNull();
  });

  it("ends the worker process with exit code 2 and one error line, before work (production's role check) and in the loop", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "rcmnet-worker-fault-"));
    try {
      const starts = [
        [{ NODE_ENV: "production", RCMNET_AUTH_SECRET: "x".repeat(40), DATABASE_URL: withRole(testServerUrl, `rcmnet_no_such_role_${suffix}`) }, /^worker not started: .*SQLSTATE 28000/],
        [{ NODE_ENV: "development", DATABASE_URL: withDatabaseName(testServerUrl, `rcmnet_no_such_db_${suffix}`) }, /^worker stopped: .*SQLSTATE 3D000/],
      ] as const;
      for (const [env, line] of starts) {
        const worker = spawnWorker(new URL("../worker.ts", import.meta.url), [], { ...env, RCMNET_DATA_DIR: dataDir, RCMNET_WORKER_JOBS: "analyzeSlide" });
        // A worker that retries for ever (the fault taken for one that heals) is ended, and fails here.
        const retryingForEver = setTimeout(() => worker.child.kill("SIGKILL"), 50_000);
        const [code] = await once(worker.child, "exit");
        clearTimeout(retryingForEver);
        expect(code, worker.output()).toBe(2);
        const errors = worker.output().split("\n").filter((l) => l.includes('"level":"error"')).map((l) => JSON.parse(l).msg as string);
        expect(errors, worker.output()).toHaveLength(1);
        expect(errors[0]).toMatch(line);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
