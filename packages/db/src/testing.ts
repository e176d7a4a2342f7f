// Test databases on a real PostgreSQL server (never a mock). Each call gets its own fresh
// database, cloned from a migrated template so that a test file pays milliseconds, not a
// full migration run. The server: TEST_DATABASE_URL, else the local one on 5432.
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:net";
import pg from "pg";
import { grantAppRole } from "./appRole.ts";
import { createPrismaClient, type PrismaClient } from "./client.ts";
import { applyMigrations } from "./migrations/applyMigrations.ts";
import { readMigrationFiles } from "./migrations/migrationFiles.ts";

/**
 * A port the OS found free a moment ago, for an embedded database a test starts: a range picked at
 * random collided, now and then, with another test file's running beside it.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no free port"))));
    });
  });
}

export const testServerUrl =
  process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export function withDatabaseName(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A migrated template named after the migrations' checksums: rebuilt only when they change. */
async function ensureTemplate(): Promise<string> {
  const files = await readMigrationFiles();
  const digest = createHash("sha256").update(files.map((f) => f.checksum).join()).digest("hex");
  const name = `rcmnet_template_${digest.slice(0, 16)}`;
  await admin(async (client) => {
    // Parallel test files race to build it: one builds, the others wait on the lock.
    await client.query("SELECT pg_advisory_lock(7243002)");
    try {
      const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (rowCount) return;
      const building = `${name}_building`;
      await client.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${building}"`);
      await applyMigrations(withDatabaseName(testServerUrl, building), files);
      await client.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    } finally {
      await client.query("SELECT pg_advisory_unlock(7243002)");
    }
  });
  return name;
}

export interface TestDatabase {
  url: string;
  name: string;
  prisma: PrismaClient;
  /** Disconnects and drops the database. */
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await ensureTemplate();
  const name = `rcmnet_test_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  const url = withDatabaseName(testServerUrl, name);
  const prisma = createPrismaClient(url, { max: 5 });
  return {
    url,
    name,
    prisma,
    async drop() {
      await prisma.$disconnect();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/**
 * Empties a test database's audit trail (its owner switches the append-only guard off for the
 * TRUNCATE and back on), so that a test starts the chain from event 1.
 */
export async function emptyAuditTrail(prisma: PrismaClient): Promise<void> {
  await prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_no_truncate`);
  await prisma.$executeRawUnsafe(`TRUNCATE "audit_event"`);
  await prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_no_truncate`);
}

/**
 * What only the tables' owner can do to an audit trail: with the append-only trigger off, run
 * `sql` (edit events, remove some) and recompute every link from `fromSeq` on with the database's
 * own hash function, so that the chain verifies again: the attack external anchors must catch.
 */
export async function rewriteAndRechain(prisma: PrismaClient, sql: string, fromSeq: number): Promise<void> {
  await prisma.$transaction([
    prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_append_only`),
    prisma.$executeRawUnsafe(sql),
    prisma.$executeRawUnsafe(`
      DO $$
      DECLARE
        e "audit_event";
        prev text := coalesce((SELECT hash FROM "audit_event" WHERE seq = ${fromSeq - 1}), repeat('0', 64));
      BEGIN
        FOR e IN SELECT * FROM "audit_event" WHERE seq >= ${fromSeq} ORDER BY seq LOOP
          e."prevHash" := prev;
          prev := audit_event_hash(e);
          UPDATE "audit_event" SET "prevHash" = e."prevHash", hash = prev WHERE seq = e.seq;
        END LOOP;
      END $$`),
    prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_append_only`),
  ]);
}

/** The login role tests serve the API as: what `grant-app-role` gives, and no more. */
export const TEST_APP_ROLE = "rcmnet_test_app";

/**
 * `url` as the platform's least-privileged role (created once per server, granted per database):
 * integration tests then fail on any privilege the platform needs that grant-app-role lacks.
 */
export async function appRoleUrl(url: string): Promise<string> {
  await admin((c) =>
    c.query(`DO $$ BEGIN CREATE ROLE ${TEST_APP_ROLE} LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`),
  );
  await grantAppRole(url, TEST_APP_ROLE);
  const u = new URL(url);
  u.username = TEST_APP_ROLE;
  return u.toString();
}

/**
 * Signs a case as signOffCase leaves it, without its checks (a fixture, for tests whose subject is
 * not the signature): the case's next sign_off (a stub content and its sha256, superseding the
 * previous version) and, in the same transaction, the case moved to SIGNED_OUT (version 1) or
 * AMENDED (version 2 on) at that report version: a case is signed only so (migration
 * signature_integrity). An amended case must be reopened first (status IN_REVIEW, as amendCase
 * does). `signerId`: the case's creator unless given. Answers the case as signed and the sign_off.
 */
export async function signCaseForTest(prisma: PrismaClient, caseId: string, options: { signerId?: string; meaning?: string } = {}) {
  return prisma.$transaction(async (tx) => {
    const [kase] = await tx.$queryRaw<{ reportVersion: number; createdById: string }[]>`
      SELECT "reportVersion", "createdById" FROM "case" WHERE id = ${caseId}::uuid FOR UPDATE`;
    if (!kase) throw new Error(`signCaseForTest: no case ${caseId}`);
    const version = kase.reportVersion + 1;
    const previous = version > 1 ? await tx.signOff.findUniqueOrThrow({ where: { caseId_version: { caseId, version: version - 1 } } }) : null;
    const content = { schema: "fixture", caseId, version };
    const signOff = await tx.signOff.create({
      data: {
        caseId,
        version,
        signerId: options.signerId ?? kase.createdById,
        signerName: "Fixture signer",
        meaning: options.meaning ?? (version === 1 ? "Reviewed and approved" : "Amended report: reviewed and approved"),
        content,
        contentSha256: createHash("sha256").update(JSON.stringify(content)).digest("hex"),
        supersedesId: previous?.id ?? null,
      },
    });
    const signed = await tx.case.update({ where: { id: caseId }, data: { status: version === 1 ? "SIGNED_OUT" : "AMENDED", reportVersion: version } });
    return { case: signed, signOff };
  });
}
