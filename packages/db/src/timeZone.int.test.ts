// Timestamps are stored as UTC without a zone; the job queue compares them with CURRENT_TIMESTAMP.
// On a server whose default zone is not UTC that comparison was hours off unless every
// connection runs in UTC.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient } from "./client.ts";
import { createTestDatabase, testServerUrl, type TestDatabase } from "./testing.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  const admin = new pg.Client({ connectionString: testServerUrl });
  await admin.connect();
  await admin.query(`ALTER DATABASE "${db.name}" SET TimeZone = 'America/New_York'`);
  await admin.end();
});
afterAll(() => db?.drop());

describe("connections", () => {
  it("run in UTC whatever the server's default zone", async () => {
    const prisma = createPrismaClient(db.url, { max: 2 });
    try {
      const [row] = await prisma.$queryRaw<{ zone: string }[]>`SELECT current_setting('TimeZone') AS zone`;
      expect(row!.zone).toBe("UTC");
      // A row written now is due now: what the queue's claim asks of runAfter.
      const job = await prisma.job.create({ data: { type: "t", payload: {} } });
      const due = await prisma.$queryRaw<unknown[]>`SELECT 1 FROM "job" WHERE "id" = ${job.id}::uuid AND "runAfter" <= CURRENT_TIMESTAMP`;
      expect(due).toHaveLength(1);
    } finally {
      await prisma.$disconnect();
    }
  });
});
