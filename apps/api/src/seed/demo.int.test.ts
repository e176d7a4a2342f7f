// The e2e seed profile end to end on a real PostgreSQL: users, champion, analysed cases, a
// signed-out case; running it again adds nothing.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyAuditChain } from "@rcmnet/db";
import { createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyPassword } from "../auth/passwords.ts";
import { seedE2E } from "./demo.ts";
import { DEMO_USERS } from "./demoUsers.ts";

let db: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "rcmnet-seed-test-"));
});
afterAll(async () => {
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function counts() {
  const p = db.prisma;
  return {
    users: await p.user.count(),
    cases: await p.case.count(),
    slides: await p.slide.count(),
    cells: await p.cell.count(),
    predictions: await p.prediction.count(),
    reviews: await p.review.count(),
    signOffs: await p.signOff.count(),
    models: await p.modelVersion.count(),
    audit: await p.auditEvent.count(),
  };
}

describe("seedE2E", () => {
  it("creates a living system once, and nothing more when run again", async () => {
    const result = await seedE2E({ databaseUrl: db.url, dataDir, log: () => {}, progressStream: null });
    expect(result.cases).toEqual([
      { accession: "DEMO-0001", status: "IN_REVIEW" },
      { accession: "DEMO-0002", status: "IN_REVIEW" },
      { accession: "DEMO-0004", status: "RECEIVED" },
      { accession: "DEMO-0005", status: "SIGNED_OUT" },
    ]);
    for (const u of DEMO_USERS) {
      const row = await db.prisma.user.findUniqueOrThrow({ where: { login: u.login } });
      expect(row.role).toBe(u.role);
      expect(await verifyPassword(row.passwordHash, u.password)).toBe(true);
    }
    const champion = await db.prisma.modelVersion.findFirstOrThrow({ where: { status: "CHAMPION" } });
    expect(champion.id).toBe(result.championModelVersionId);
    // Every cell of an analysed case has its champion prediction; the signed-out case is fully reviewed.
    const cells = await db.prisma.cell.findMany({
      include: { predictions: true, slide: { include: { case: true } } },
    });
    expect(cells.length).toBeGreaterThan(0);
    for (const c of cells) expect(c.predictions.map((p) => p.modelVersionId)).toEqual([champion.id]);
    const signed = cells.filter((c) => c.slide.case.status === "SIGNED_OUT");
    expect(signed.length).toBeGreaterThan(0);
    expect(signed.every((c) => c.reviewCount > 0)).toBe(true);
    expect(await verifyAuditChain(db.prisma)).toMatchObject({ ok: true });

    const before = await counts();
    await seedE2E({ databaseUrl: db.url, dataDir, log: () => {}, progressStream: null });
    expect(await counts()).toEqual(before);
  }, 180_000);
});
