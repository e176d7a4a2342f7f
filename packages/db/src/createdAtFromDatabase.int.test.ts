// A record's creation time is the database's clock, whatever the inserting host sends (migration
// created_at_from_database): a host whose clock is years off, either way, dates nothing by it.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "./embedded.ts";
import { appRoleUrl, createTestDatabase, freePort, signCaseForTest, type TestDatabase } from "./testing.ts";

let db: TestDatabase;
/** As the platform's role (grant-app-role's privileges): the one the API and workers run as. */
let app: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  app = new pg.Client({ connectionString: await appRoleUrl(db.url) });
  await app.connect();
});
afterAll(async () => {
  await app?.end();
  await db?.drop();
});

const unique = () => randomBytes(4).toString("hex");
const YEAR_MS = 365 * 24 * 3_600_000;
/** A host ten years behind, then one ten years ahead. */
const WRONG_CLOCKS = [new Date(Date.now() - 10 * YEAR_MS), new Date(Date.now() + 10 * YEAR_MS)];

async function databaseNow(): Promise<number> {
  const [row] = await db.prisma.$queryRaw<{ now: Date }[]>`SELECT date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC') AS now`;
  return row!.now.getTime();
}

/** Stamped by the database's clock between `from` and now (not the client's time). */
async function expectDatabaseTime(table: string, at: Date, from: number) {
  expect(at.getTime(), table).toBeGreaterThanOrEqual(from);
  expect(at.getTime(), table).toBeLessThanOrEqual(await databaseNow());
}

/** A row in each table whose createdAt created_at_from_database sets, each sent `createdAt`. */
async function insertEverything(createdAt: Date) {
  const p = db.prisma;
  const user = await p.user.create({ data: { login: `u-${unique()}`, displayName: "U", passwordHash: "h", role: "HEMATOLOGIST", createdAt } });
  const kase = await p.case.create({ data: { accession: `ACC-${unique()}`, status: "IN_REVIEW", createdById: user.id, createdAt } });
  const slide = await p.slide.create({
    data: { caseId: kase.id, imageSha256: randomBytes(32).toString("hex"), mimeType: "image/png", byteSize: 1, width: 64, height: 64, uploadedById: user.id, createdAt },
  });
  const cell = await p.cell.create({ data: { slideId: slide.id, x: 0, y: 0, width: 8, height: 8, cropSha256: "b".repeat(64), createdAt } });
  const model = await p.modelVersion.create({
    data: { name: `m-${unique()}`, version: "1", labels: ["car_t", "other"], inputSize: 64, normalization: {}, architecture: {}, metrics: {}, artifactPath: "/m", artifactSha256: "c".repeat(64), createdAt },
  });
  const prediction = await p.prediction.create({ data: { cellId: cell.id, modelVersionId: model.id, label: "car_t", probabilities: { car_t: 0.9 }, confidence: 0.9, createdAt } });
  const review = await p.review.create({ data: { cellId: cell.id, seq: 1, reviewerId: user.id, action: "CONFIRM", label: "car_t", createdAt } });
  const snapshot = await p.datasetSnapshot.create({ data: { name: `s-${unique()}`, labels: ["car_t"], itemCount: 0, contentHash: "h", createdById: user.id, createdAt } });
  const job = await p.job.create({ data: { type: "t", payload: {}, createdAt } });
  return { user, case: kase, slide, cell, model_version: model, prediction, review, dataset_snapshot: snapshot, job };
}

describe("a record's creation time", () => {
  it("is the database's clock at the insert, whatever createdAt the client sends, in every table", async () => {
    for (const sent of WRONG_CLOCKS) {
      const from = await databaseNow();
      const rows = await insertEverything(sent);
      const stored = {
        user: await db.prisma.user.findUniqueOrThrow({ where: { id: rows.user.id } }),
        case: await db.prisma.case.findUniqueOrThrow({ where: { id: rows.case.id } }),
        slide: await db.prisma.slide.findUniqueOrThrow({ where: { id: rows.slide.id } }),
        cell: await db.prisma.cell.findUniqueOrThrow({ where: { id: rows.cell.id } }),
        model_version: await db.prisma.modelVersion.findUniqueOrThrow({ where: { id: rows.model_version.id } }),
        prediction: await db.prisma.prediction.findUniqueOrThrow({ where: { id: rows.prediction.id } }),
        review: await db.prisma.review.findUniqueOrThrow({ where: { id: rows.review.id } }),
        dataset_snapshot: await db.prisma.datasetSnapshot.findUniqueOrThrow({ where: { id: rows.dataset_snapshot.id } }),
        job: await db.prisma.job.findUniqueOrThrow({ where: { id: rows.job.id } }),
      };
      for (const [table, row] of Object.entries(stored)) {
        await expectDatabaseTime(table, row.createdAt, from);
        // What the insert handed back (RETURNING) is the stored time: the API audits that value.
        expect(rows[table as keyof typeof rows].createdAt.getTime(), table).toBe(row.createdAt.getTime());
      }
      // Written one after the other, so dated in that order, whatever the client said.
      const times = Object.values(stored).map((r) => r.createdAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
  });

  it("is the database's for the platform's own role, and for an explicit NULL, in a console insert", async () => {
    const from = await databaseNow();
    const { rows: jobs } = await app.query<{ id: string }>(
      `INSERT INTO "job" (id, type, payload, "createdAt") VALUES (gen_random_uuid(), 't', '{}', '2001-01-01') RETURNING id`,
    );
    await expectDatabaseTime("job", (await db.prisma.job.findUniqueOrThrow({ where: { id: jobs[0]!.id } })).createdAt, from);
    const { rows: users } = await app.query<{ id: string }>(
      `INSERT INTO "user" (id, login, "displayName", "passwordHash", role, "createdAt", "updatedAt")
       VALUES (gen_random_uuid(), $1, 'N', 'h', 'TECHNICIAN', NULL, now()) RETURNING id`,
      [`n-${unique()}`],
    );
    await expectDatabaseTime("user", (await db.prisma.user.findUniqueOrThrow({ where: { id: users[0]!.id } })).createdAt, from);
  });

  it("still refuses a row a guard refuses, and leaves what was stored as it was", async () => {
    const { cell, slide, case: kase } = await insertEverything(new Date());
    // A creation time, once stamped, is not moved afterwards (the identity guards).
    await expect(app.query(`UPDATE cell SET "createdAt" = '2001-01-01' WHERE id = $1`, [cell.id])).rejects.toMatchObject({ code: "42501" });
    expect((await db.prisma.cell.findUniqueOrThrow({ where: { id: cell.id } })).createdAt).toEqual(cell.createdAt);
    // The time triggers sort after the guards: a new cell on a signed case is refused as before.
    await signCaseForTest(db.prisma, kase.id);
    const before = await db.prisma.cell.findMany({ where: { slideId: slide.id }, orderBy: { id: "asc" } });
    await expect(
      app.query(`INSERT INTO cell (id, "slideId", x, y, width, height, "cropSha256", "createdAt") VALUES (gen_random_uuid(), $1, 9, 9, 8, 8, 'e', '2001-01-01')`, [slide.id]),
    ).rejects.toMatchObject({ code: "42501", message: expect.stringMatching(/new "cell" row on signed case/) });
    expect(await db.prisma.cell.findMany({ where: { slideId: slide.id }, orderBy: { id: "asc" } })).toEqual(before);
  });

  it("is set by a trigger on every table that has a createdAt, by one function, the duplicates dropped", async () => {
    const tables = await db.prisma.$queryRaw<{ table: string }[]>`
      SELECT table_name::text AS table FROM information_schema.columns
       WHERE table_schema = 'public' AND column_name = 'createdAt' ORDER BY 1`;
    const stamped = await db.prisma.$queryRaw<{ table: string; trigger: string; fn: string }[]>`
      SELECT c.relname::text AS table, t.tgname::text AS trigger, p.proname::text AS fn
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
          AND p.proname IN ('created_at_from_database', 'training_run_time_from_database')
          AND (t.tgtype & 6) = 6 -- BEFORE (2) INSERT (4)
        ORDER BY 1`;
    // training_run's own function also sets its start and end (migration record_times_from_database).
    expect(stamped.map((s) => s.table)).toEqual(tables.map((t) => t.table));
    for (const s of stamped) {
      expect(s.trigger, s.table).toBe(`${s.table}_time_from_database`);
      expect(s.fn, s.table).toBe(s.table === "training_run" ? "training_run_time_from_database" : "created_at_from_database");
    }
    const dropped = await db.prisma.$queryRaw<unknown[]>`
      SELECT proname::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace
         AND proname IN ('prediction_time_from_database', 'review_time_from_database', 'dataset_snapshot_time_from_database')`;
    expect(dropped).toEqual([]);
  });

  it("is the database's in the embedded database npm start runs too", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "pglite-"));
    try {
      const server = await startEmbeddedPostgres({ dataDir, port: await freePort() });
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ createdAt: Date; now: Date }>(
          `INSERT INTO "user" (id, login, "displayName", "passwordHash", role, "createdAt", "updatedAt")
           VALUES (gen_random_uuid(), 'embedded', 'E', 'h', 'ADMIN', '2001-01-01', now())
           RETURNING "createdAt", clock_timestamp() AT TIME ZONE 'UTC' AS now`,
        );
        expect(Math.abs(rows[0]!.now.getTime() - rows[0]!.createdAt.getTime())).toBeLessThan(5_000);
      } finally {
        await client.end();
        await server.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
