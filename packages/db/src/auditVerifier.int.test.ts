// The verifier re-hashes only what is new between full walks; these pin what each check can
// and cannot see, and that its verdict says which kind of check it was.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuditChainVerifier } from "./audit.ts";
import { createTestDatabase, emptyAuditTrail, type TestDatabase } from "./testing.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

async function addEvents(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await db.prisma.auditEvent.create({ data: { actorLogin: "tech", action: "case.create", entityType: "Case", entityId: `c-${Math.random()}` } });
  }
}

/** What only the tables' owner can do: switch the append-only trigger off and edit an event. */
async function tamper(sql: string): Promise<void> {
  await db.prisma.$transaction([
    db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_append_only`),
    db.prisma.$executeRawUnsafe(sql),
    db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_append_only`),
  ]);
}

// Each test starts from an empty trail.
beforeEach(async () => {
  await emptyAuditTrail(db.prisma);
});

describe("AuditChainVerifier", () => {
  it("walks the whole chain first, then only what followed it; a full walk on request finds an older edit", async () => {
    const verifier = new AuditChainVerifier();
    await addEvents(3);
    const first = await verifier.verify(db.prisma);
    expect(first).toMatchObject({ ok: true, checked: 3, full: true, fullyVerifiedThrough: 3 });
    expect(first.fullyVerifiedAt).toBeInstanceOf(Date);

    await addEvents(2);
    const next = await verifier.verify(db.prisma);
    expect(next).toMatchObject({ ok: true, checked: 5, full: false, fullyVerifiedThrough: 3, fullyVerifiedAt: first.fullyVerifiedAt });

    // An edit before the resume point is not re-hashed by a quick check, and the verdict says so.
    await tamper(`UPDATE "audit_event" SET "entityId" = 'forged' WHERE seq = 2`);
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, full: false, fullyVerifiedThrough: 3 });
    const whole = await verifier.verify(db.prisma, { full: true });
    expect(whole).toMatchObject({ ok: false, full: true, firstBrokenSeq: 2, checked: 1 });
    expect(whole.problem).toMatch(/event 2 was altered after it was written/);
  });

  it("re-hashes every event after the last full walk on each quick check, not only the newest", async () => {
    const verifier = new AuditChainVerifier();
    await addEvents(2);
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, checked: 2, full: true });
    await addEvents(2);
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, checked: 4, full: false, fullyVerifiedThrough: 2 });
    // Event 3 was covered by the quick check above; an edit of it since is still found by the
    // next quick check (which says it re-hashed everything after event 2).
    await addEvents(1);
    await tamper(`UPDATE "audit_event" SET "reason" = 'forged' WHERE seq = 3`);
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: false, full: false, firstBrokenSeq: 3, checked: 2 });
  });

  it("refuses a resume point whose hash changed, and keeps reporting a break once seen", async () => {
    const verifier = new AuditChainVerifier();
    await addEvents(4);
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, checked: 4, full: true });
    // The resume point itself rewritten with a recomputed hash: the chain still links up.
    await tamper(`UPDATE "audit_event" SET "reason" = 'forged' WHERE seq = 4`);
    await tamper(`UPDATE "audit_event" a SET "hash" = audit_event_hash(a) WHERE seq = 4`);
    const quick = await verifier.verify(db.prisma);
    expect(quick).toMatchObject({ ok: false, full: false, firstBrokenSeq: 4, checked: 3 });
    expect(quick.problem).toMatch(/event 4 is missing or no longer has the hash it had when last verified/);
    // A full walk would now pass (the rewrite is consistent): the break stays the answer.
    expect(await verifier.verify(db.prisma, { full: true })).toEqual(quick);
    expect(await new AuditChainVerifier().verify(db.prisma)).toMatchObject({ ok: true, full: true });
  });

  it("lets concurrent checks share one walk; a full request does not take a quick walk's answer", async () => {
    await addEvents(1);
    const verifier = new AuditChainVerifier();
    await verifier.verify(db.prisma);
    const [a, b, c] = [verifier.verify(db.prisma), verifier.verify(db.prisma), verifier.verify(db.prisma, { full: true })];
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect((await a).full).toBe(false);
    expect((await c).full).toBe(true);
    // A quick request during a full walk takes the full walk's answer.
    const [d, e] = [verifier.verify(db.prisma, { full: true }), verifier.verify(db.prisma)];
    expect(e).toBe(d);
    // Once answered, the next check walks again.
    await d;
    const f = verifier.verify(db.prisma);
    expect(f).not.toBe(d);
    await f;
  });

  it("walks the whole chain again once fullEveryMs has passed", async () => {
    await addEvents(1);
    const verifier = new AuditChainVerifier(0);
    const a = await verifier.verify(db.prisma);
    const b = await verifier.verify(db.prisma);
    expect([a.full, b.full]).toEqual([true, true]);
  });
});
