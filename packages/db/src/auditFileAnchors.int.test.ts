// What the anchors inside the database cannot show: the tables' owner rewriting events and
// recomputing the whole chain (the signatures' anchors too). The chain heads copied to the anchor
// file outside the database show it, and events removed from the end.
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuditChainVerifier } from "./audit.ts";
import { formatAnchorLine } from "./auditAnchorFile.ts";
import { createTestDatabase, type TestDatabase } from "./testing.ts";

let db: TestDatabase;
let dir: string;
let file: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "rcmnet-anchor-check-"));
});
afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let n = 0;
// Each test starts from an empty trail and its own anchor file (none written yet).
beforeEach(async () => {
  await db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_no_truncate`);
  await db.prisma.$executeRawUnsafe(`TRUNCATE "audit_event"`);
  await db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_no_truncate`);
  file = join(dir, `anchors-${++n}.jsonl`);
});

async function addEvents(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await db.prisma.auditEvent.create({ data: { actorLogin: "tech", action: "case.create", entityType: "Case", entityId: `c-${Math.random()}` } });
  }
}

/** Copies the chain head to the anchor file, as the worker does. */
async function anchorHead(): Promise<void> {
  const head = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
  await appendFile(file, formatAnchorLine({ seq: head.seq, hash: head.hash, at: head.at, writtenAt: new Date() }));
}

/**
 * What only the tables' owner can do: with the append-only trigger off, edit events and then
 * recompute every link from `fromSeq` on with the database's own hash function, so that the
 * chain verifies again.
 */
async function rewriteAndRechain(sql: string, fromSeq: number): Promise<void> {
  await db.prisma.$transaction([
    db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_append_only`),
    db.prisma.$executeRawUnsafe(sql),
    db.prisma.$executeRawUnsafe(`
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
    db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_append_only`),
  ]);
}

describe("anchors outside the database", () => {
  it("an intact trail verifies with every anchor of the file checked; no file is no problem, and 0 checked", async () => {
    await addEvents(2);
    expect(await new AuditChainVerifier(undefined, file).verify(db.prisma)).toMatchObject({ ok: true, checked: 2, externalAnchorsChecked: 0 });
    await anchorHead();
    await addEvents(3);
    await anchorHead();
    await addEvents(1);
    const verifier = new AuditChainVerifier(undefined, file);
    expect(await verifier.verify(db.prisma)).toEqual(expect.objectContaining({ ok: true, checked: 6, problem: null, externalAnchorsChecked: 2 }));
    // A quick check (from the last full walk) checks them too.
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, full: false, externalAnchorsChecked: 2 });
  });

  it("finds an event the owner rewrote and re-chained, which the walk and the signatures' anchors cannot", async () => {
    await addEvents(3);
    await anchorHead();
    await addEvents(2);
    await anchorHead();
    const firstAnchor = JSON.parse((await readFile(file, "utf8")).split("\n")[0] ?? "") as { writtenAt: string };
    await rewriteAndRechain(`UPDATE "audit_event" SET "entityId" = 'forged' WHERE seq = 2`, 2);
    // Without the file the rewrite passes: the chain links up again.
    expect(await new AuditChainVerifier().verify(db.prisma, { full: true })).toMatchObject({ ok: true, checked: 5 });
    const status = await new AuditChainVerifier(undefined, file).verify(db.prisma, { full: true });
    expect(status).toMatchObject({ ok: false, firstBrokenSeq: 3, checked: 2, externalAnchorsChecked: 2 });
    expect(status.problem).toBe(
      `event #3, anchored outside the database at ${firstAnchor.writtenAt}, is missing or altered: its hash is not the one anchored, so the trail was rewritten (and re-chained) up to it`,
    );
  });

  it("finds events removed from the end of the trail after an anchor", async () => {
    await addEvents(6);
    await anchorHead();
    await db.prisma.$transaction([
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_append_only`),
      db.prisma.$executeRawUnsafe(`DELETE FROM "audit_event" WHERE seq >= 5`),
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_append_only`),
    ]);
    expect(await new AuditChainVerifier().verify(db.prisma)).toMatchObject({ ok: true, checked: 4 });
    const status = await new AuditChainVerifier(undefined, file).verify(db.prisma);
    expect(status).toMatchObject({ ok: false, firstBrokenSeq: 5, checked: 4, externalAnchorsChecked: 1 });
    expect(status.problem).toMatch(
      /^event #6, anchored outside the database at \S+Z, is missing: the trail ends at event #4, so events were removed from its end \(or the database was restored from a backup older than the anchor\)$/,
    );
  });

  it("reports an unreadable line in the middle of the file, without keeping it as a break of the chain", async () => {
    await addEvents(2);
    await anchorHead();
    await appendFile(file, `{"seq":"2","hash":"not a hash"}\n`);
    await addEvents(1);
    await anchorHead();
    const verifier = new AuditChainVerifier(undefined, file);
    const status = await verifier.verify(db.prisma);
    expect(status).toMatchObject({ ok: false, firstBrokenSeq: null, checked: 3, externalAnchorsChecked: 2 });
    expect(status.problem).toBe(
      "line 2 of the anchor file is unreadable: something other than the worker's appends changed the file, and an anchor there may have been erased",
    );
    // Read again on every check: once the file is put right, the verdict is too.
    const lines = (await readFile(file, "utf8")).split("\n");
    await writeFile(file, `${lines[0]}\n${lines[2]}\n`);
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, externalAnchorsChecked: 2 });
  });

  it("ignores a torn last line", async () => {
    await addEvents(2);
    await anchorHead();
    await appendFile(file, `{"seq":"3","ha`);
    expect(await new AuditChainVerifier(undefined, file).verify(db.prisma)).toMatchObject({ ok: true, externalAnchorsChecked: 1 });
  });
});
