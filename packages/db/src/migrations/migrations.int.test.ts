import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../embedded.ts";
import { migrationsDir, schemaPath } from "../paths.ts";
import { testServerUrl, withDatabaseName } from "../testing.ts";
import { applyMigrations, MigrationError } from "./applyMigrations.ts";
import { diffSchemas, SNAPSHOT_FILE } from "./createMigration.ts";
import { readMigrationFiles } from "./migrationFiles.ts";

const created: string[] = [];
async function emptyDatabase(): Promise<string> {
  const name = `rcmnet_mig_${Math.random().toString(16).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: testServerUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  created.push(name);
  return withDatabaseName(testServerUrl, name);
}

afterAll(async () => {
  const admin = new pg.Client({ connectionString: testServerUrl });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
});

describe("migrations", () => {
  it("apply cleanly to an empty PostgreSQL, record history, and are idempotent", async () => {
    const url = await emptyDatabase();
    const files = await readMigrationFiles();
    const first = await applyMigrations(url);
    expect(first.applied).toEqual(files.map((f) => f.name));
    const second = await applyMigrations(url);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(files.map((f) => f.name));

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(`SELECT migration_name, checksum FROM "_prisma_migrations"`);
    await client.end();
    expect(rows).toEqual(files.map((f) => ({ migration_name: f.name, checksum: f.checksum })));
  });

  it("run concurrently from several processes without applying twice", async () => {
    const url = await emptyDatabase();
    const results = await Promise.all([applyMigrations(url), applyMigrations(url), applyMigrations(url)]);
    expect(results.flatMap((r) => r.applied)).toHaveLength((await readMigrationFiles()).length);
  });

  it("refuse a committed migration that was edited after it ran", async () => {
    const url = await emptyDatabase();
    await applyMigrations(url);
    const edited = (await readMigrationFiles()).map((f, i) =>
      i === 0 ? { ...f, checksum: "0".repeat(64) } : f,
    );
    await expect(applyMigrations(url, edited)).rejects.toBeInstanceOf(MigrationError);
    // No restart clears it: npm start stops with exit 2.
    await expect(applyMigrations(url, edited)).rejects.toMatchObject({ permanent: true });
  });

  it("refuse a database migrated by a newer release, and one with an unfinished migration", async () => {
    const url = await emptyDatabase();
    const files = await readMigrationFiles();
    await applyMigrations(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // Older code, newer database: the last migration is unknown to it.
      await expect(applyMigrations(url, files.slice(0, -1))).rejects.toThrow(
        new RegExp(`has migration ${files.at(-1)!.name}, which this version does not know`),
      );
      await expect(applyMigrations(url, files.slice(0, -1))).rejects.toMatchObject({ permanent: true });
      // What `prisma migrate deploy` leaves when a migration fails half way.
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at)
         VALUES (gen_random_uuid(), 'c', '29990101000000_half', now())`,
      );
      await expect(applyMigrations(url)).rejects.toThrow(/29990101000000_half started and never finished/);
      // Once resolved as rolled back, it no longer stands in the way.
      await client.query(`UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '29990101000000_half'`);
      expect((await applyMigrations(url)).applied).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it("roll back a failing migration completely", async () => {
    const url = await emptyDatabase();
    const bad = { name: "29990101000000_bad", checksum: "x", sql: "CREATE TABLE t_ok (id int); SELECT 1/0;" };
    await expect(applyMigrations(url, [bad])).rejects.toThrow(/29990101000000_bad failed/);
    // One that failed as it ran (a lock timeout, a full disk) may pass on the next start.
    await expect(applyMigrations(url, [bad])).rejects.toMatchObject({ permanent: false });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rowCount } = await client.query("SELECT 1 FROM pg_tables WHERE tablename = 't_ok'");
    await client.end();
    expect(rowCount).toBe(0);
  });

  it("match prisma/schema.prisma exactly (no schema change without a migration)", async () => {
    const last = (await readMigrationFiles()).at(-1)!;
    const snapshot = await readFile(join(migrationsDir, last.name, SNAPSHOT_FILE), "utf8");
    const schema = await readFile(schemaPath, "utf8");
    expect(await diffSchemas(testServerUrl, snapshot, schema)).toBe("");
  });

  it("apply to the embedded server, whose data survives a restart", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "pglite-"));
    try {
      const port = 5600 + Math.floor(Math.random() * 300);
      let server = await startEmbeddedPostgres({ dataDir, port });
      let client = new pg.Client({ connectionString: server.url });
      await client.connect();
      await client.query(
        `INSERT INTO "user" (id, login, "displayName", "passwordHash", role, "updatedAt")
         VALUES (gen_random_uuid(), 'persist', 'P', 'h', 'ADMIN', now())`,
      );
      await client.end();
      await server.stop();

      server = await startEmbeddedPostgres({ dataDir, port });
      client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const { rows } = await client.query(`SELECT login FROM "user"`);
      await client.end();
      await server.stop();
      expect(rows).toEqual([{ login: "persist" }]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
