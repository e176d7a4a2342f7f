// The demo's review of its own cases goes through the real rules: an AI call too unsure for a
// bulk confirm (how many there are depends on the model, and on the CPU it trained on) is
// confirmed one by one, as at the dashboard, instead of failing `npm start`.
import { createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../auth/passwords.ts";
import { seedReviewableCase } from "../testing/fixtures.ts";
import { reviewAndSignOut } from "./demoSignOut.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

describe("reviewAndSignOut (demo seed)", () => {
  it("confirms unsure AI calls one by one and signs the case", async () => {
    const password = "demo-password-123";
    const hema = await db.prisma.user.create({
      data: { login: "hema", displayName: "Dr H", passwordHash: await hashPassword(password), role: "HEMATOLOGIST" },
    });
    // Ten cells: the fixture's tenth is an abstained call.
    const { kase, cellIds } = await seedReviewableCase(db.prisma, { createdById: hema.id, cells: 10 });
    const outcome = await reviewAndSignOut({ prisma: db.prisma, hematologist: hema, password, kase, truthBySlide: new Map() });
    expect(outcome).toBe("signed");
    expect(await db.prisma.review.count({ where: { cellId: { in: cellIds } } })).toBe(10);
    // The seven confident calls other than CAR-T in one bulk decision; the two CAR-T calls and the
    // unsure one alone.
    const confirms = await db.prisma.auditEvent.findMany({ where: { action: "cell.confirm" }, select: { after: true } });
    const bulk = confirms.filter((e) => (e.after as { bulk?: unknown }).bulk);
    expect([bulk.length, confirms.length]).toEqual([7, 10]);
    expect((await db.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).status).toBe("SIGNED_OUT");
  });
});
