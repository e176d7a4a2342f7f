// The platform can run as a role that does not own the tables: everything it does works, and what
// would let it rewrite its own records undetected (switching the append-only triggers off,
// TRUNCATE, DDL) is refused by PostgreSQL's privileges, not only by triggers the owner controls.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantAppRole } from "./appRole.ts";
import { openDatabase } from "./openDatabase.ts";
import { createTestDatabase, testServerUrl, type TestDatabase } from "./testing.ts";

let db: TestDatabase;
const role = `rcmnet_app_${randomBytes(4).toString("hex")}`;
const startedRole = `${role}_start`;
let app: pg.Client;

async function asOwner(sql: string) {
  const c = new pg.Client({ connectionString: testServerUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  await asOwner(`CREATE ROLE ${role} LOGIN`);
  await grantAppRole(db.url, role);
  const url = new URL(db.url);
  url.username = role;
  app = new pg.Client({ connectionString: url.toString() });
  await app.connect();
});
afterAll(async () => {
  await app?.end();
  await db?.drop();
  await asOwner(`DROP ROLE IF EXISTS ${role}`);
  await asOwner(`DROP ROLE IF EXISTS ${startedRole}`);
});

const denied = (sql: string) => expect(app.query(sql)).rejects.toThrow(/permission denied|must be owner/);

describe("grantAppRole", () => {
  it("lets the platform's role append to the audit trail and move workflow state", async () => {
    await app.query(`INSERT INTO audit_event ("actorLogin", action, "entityType", "entityId") VALUES ('system', 'test.event', 'Test', 'x')`);
    await app.query(`INSERT INTO job (id, type, payload) VALUES (gen_random_uuid(), 't', '{}')`);
    // A claim: SELECT ... FOR UPDATE SKIP LOCKED then UPDATE, as the queue does.
    await app.query("BEGIN");
    const { rows } = await app.query(`SELECT id FROM job WHERE status = 'QUEUED' FOR UPDATE SKIP LOCKED LIMIT 1`);
    await app.query(`UPDATE job SET status = 'RUNNING' WHERE id = $1`, [rows[0].id]);
    await app.query("COMMIT");
    await app.query(`DELETE FROM api_session WHERE "endedAt" IS NOT NULL`);
  });

  it("refuses what would let it rewrite its records undetected", async () => {
    await denied(`ALTER TABLE audit_event DISABLE TRIGGER USER`);
    await denied(`TRUNCATE audit_event`);
    await denied(`ALTER TABLE review DISABLE TRIGGER USER`);
    await denied(`CREATE TABLE sneaky (id int)`);
    // Privileges as well as triggers: no UPDATE or DELETE on append-only tables at all.
    await denied(`UPDATE review SET label = 'x'`);
    await denied(`DELETE FROM sign_off`);
    await denied(`DELETE FROM "case"`);
    await denied(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ('x', 'x', 'x')`);
  });

  it("refuses a role name that is not a plain identifier, granting nothing (it goes into SQL unquoted)", async () => {
    for (const bad of [`${role}; DROP TABLE audit_event`, "Upper", "", "x-y"]) {
      await expect(grantAppRole(db.url, bad)).rejects.toThrow(/use lower-case letters, digits and _ only/);
    }
    // The trail is still there to read (an injected DROP would have run as the owner).
    expect((await app.query(`SELECT count(*)::int AS n FROM audit_event`)).rows[0].n).toBeGreaterThanOrEqual(0);
  });

  it("is granted on start when the owner migrates and the platform connects as another role", async () => {
    await asOwner(`CREATE ROLE ${startedRole} LOGIN`);
    const url = new URL(db.url);
    url.username = startedRole;
    const opened = await openDatabase({ databaseUrl: url.toString(), migrationUrl: db.url, dataDir: "/nonexistent" });
    const client = new pg.Client({ connectionString: opened.url });
    await client.connect();
    try {
      await client.query(`INSERT INTO audit_event ("actorLogin", action, "entityType", "entityId") VALUES ('system', 'test.start', 'Test', 'y')`);
      await expect(client.query(`ALTER TABLE audit_event DISABLE TRIGGER USER`)).rejects.toThrow(/must be owner/);
    } finally {
      await client.end();
      await opened.close();
    }
  });
});
