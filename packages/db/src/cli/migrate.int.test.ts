// npm run migrate as an operator runs it: a child process (tsx, as the npm script), against a real
// PostgreSQL server. It migrates as the tables' owner (RCMNET_MIGRATION_DATABASE_URL, else
// DATABASE_URL), as every start does, and says in one line why it could not.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMigrationFiles } from "../migrations/migrationFiles.ts";
import { repoRoot } from "../paths.ts";
import { appRoleUrl, createTestDatabase, TEST_APP_ROLE, testServerUrl, type TestDatabase, withDatabaseName } from "../testing.ts";

const exec = promisify(execFile);
const tsx = join(repoRoot, "node_modules/.bin/tsx");
const script = resolve(import.meta.dirname, "migrate.ts");

/** The CLI with the two URLs given here (whatever the test's shell carries is dropped). */
async function migrate(env: { DATABASE_URL?: string; RCMNET_MIGRATION_DATABASE_URL?: string }) {
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.DATABASE_URL;
  delete base.RCMNET_MIGRATION_DATABASE_URL;
  try {
    const { stdout, stderr } = await exec(tsx, [script], { env: { ...base, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

async function onServer<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("npm run migrate", () => {
  it("migrates as RCMNET_MIGRATION_DATABASE_URL when set: in a split-role install DATABASE_URL's role may not run DDL", async () => {
    // The platform's role (created once on the server) and a database not migrated yet.
    await appRoleUrl(db.url);
    const name = `rcmnet_test_migrate_${randomBytes(4).toString("hex")}`;
    await onServer(testServerUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
    try {
      const owner = withDatabaseName(testServerUrl, name);
      const platform = new URL(owner);
      platform.username = TEST_APP_ROLE;
      const run = await migrate({ DATABASE_URL: platform.toString(), RCMNET_MIGRATION_DATABASE_URL: owner });
      const count = (await readMigrationFiles()).length;
      expect(run, run.stderr).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout).toMatch(new RegExp(`^Applied ${count} migration\\(s\\): .*; 0 already applied\\.\\n$`));
      const applied = await onServer(owner, (c) => c.query(`SELECT count(*)::int AS n FROM "_prisma_migrations"`));
      expect(applied.rows[0].n).toBe(count);
    } finally {
      await onServer(testServerUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
  }, 120_000);

  it("refuses a history this version does not know with one line and exit 1, not a stack trace, and changes nothing", async () => {
    await onServer(db.url, (c) =>
      c.query(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
               VALUES ('${randomBytes(8).toString("hex")}', 'x', '29990101000000_from_a_newer_release', now(), 1)`),
    );
    const history = () => onServer(db.url, (c) => c.query(`SELECT migration_name, finished_at FROM "_prisma_migrations" ORDER BY migration_name`));
    const before = (await history()).rows;
    const run = await migrate({ DATABASE_URL: db.url });
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: "" });
    expect(run.stderr).toMatch(/^Not migrated: the database has migration 29990101000000_from_a_newer_release, which this version does not know: [^\n]*\n$/);
    expect((await history()).rows).toEqual(before);
  }, 60_000);

  it("says in one line that no URL is set (exit 2)", async () => {
    const run = await migrate({ DATABASE_URL: "", RCMNET_MIGRATION_DATABASE_URL: "" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^Neither RCMNET_MIGRATION_DATABASE_URL nor DATABASE_URL is set [^\n]*\n$/);
  }, 60_000);
});
