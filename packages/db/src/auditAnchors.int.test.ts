// Deleting the newest audit events leaves a chain that still links up; the signatures' anchors
// (the chain head each one saw) expose it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "./audit.ts";
import { createTestDatabase, type TestDatabase } from "./testing.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe("audit trail anchored by signatures", () => {
  it("detects events removed from the end of the trail after a signature anchored them", async () => {
    const p = db.prisma;
    const user = await p.user.create({ data: { login: "hema", displayName: "Dr H", passwordHash: "h", role: "HEMATOLOGIST" } });
    const kase = await p.case.create({ data: { accession: "ANCHOR-1", status: "IN_REVIEW", createdById: user.id } });
    for (let i = 0; i < 4; i++) {
      await p.auditEvent.create({ data: { actorId: user.id, actorLogin: user.login, action: "cell.confirm", entityType: "Cell", entityId: `cell-${i}` } });
    }
    const head = await p.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    // Signed as signOffCase signs: the sign_off, and the case moved to its version (one transaction).
    await p.$transaction([
      p.signOff.create({
        data: {
          caseId: kase.id, version: 1, signerId: user.id, signerName: user.displayName, meaning: "reviewed",
          content: { auditAnchor: { seq: head.seq.toString(), hash: head.hash } }, contentSha256: "d".repeat(64),
        },
      }),
      p.case.update({ where: { id: kase.id }, data: { status: "SIGNED_OUT", reportVersion: 1 } }),
    ]);
    expect(await verifyAuditChain(p)).toMatchObject({ ok: true, checked: 4 });

    // A superuser removes the last two events: the two left still chain correctly.
    await p.$transaction([
      p.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_append_only`),
      p.$executeRawUnsafe(`DELETE FROM "audit_event" WHERE seq >= 3`),
      p.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_append_only`),
    ]);
    const status = await verifyAuditChain(p);
    expect(status).toMatchObject({ ok: false, firstBrokenSeq: 4, checked: 2 });
    expect(status.problem).toMatch(/event #4, anchored by the signature of case ANCHOR-1 \(version 1\), is missing or altered/);
  });
});
