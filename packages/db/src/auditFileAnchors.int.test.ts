// What the anchors inside the database cannot show: the tables' owner rewriting events and
// recomputing the whole chain (the signatures' anchors too). The chain heads copied to the anchor
// file outside the database show it, and events removed from the end.
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuditChainVerifier, checkAnchorFile } from "./audit.ts";
import { ANCHOR_FILE_STARTED, formatAnchorLine } from "./auditAnchorFile.ts";
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

describe("an anchor file that goes or shrinks", () => {
  it("fails once the file this process read is gone, truncated or replaced by one anchoring less; read again each time", async () => {
    await addEvents(2);
    await anchorHead();
    await addEvents(2);
    await anchorHead();
    const verifier = new AuditChainVerifier(undefined, file);
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, externalAnchorsChecked: 2 });
    const kept = await readFile(file, "utf8");

    await rename(file, `${file}.away`);
    const gone = await verifier.verify(db.prisma);
    expect(gone).toMatchObject({ ok: false, firstBrokenSeq: null, externalAnchorsChecked: 0 });
    expect(gone.problem).toMatch(
      new RegExp(`^the anchor file ${file} had 2 anchors \\(the newest for event #4\\) at \\S+Z and now has none \\(no file\\): it was replaced, truncated or removed$`),
    );
    // An empty file in its place (what a writer opening with O_CREAT made of it) is no better.
    await writeFile(file, "");
    expect((await verifier.verify(db.prisma)).problem).toMatch(/had 2 anchors .* and now has 0: it was replaced/);
    // Truncated to its first line.
    await writeFile(file, `${kept.split("\n")[0]}\n`);
    expect((await verifier.verify(db.prisma)).problem).toMatch(/had 2 anchors .* and now has 1, the newest for event #2: it was replaced/);
    // Put back: passes again, the break not kept.
    await writeFile(file, kept);
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, problem: null, externalAnchorsChecked: 2 });
    // As many anchors, but an older head: replaced.
    const lines = kept.split("\n");
    await writeFile(file, `${lines[0]}\n${lines[0]}\n`);
    expect((await verifier.verify(db.prisma)).problem).toMatch(/had 2 anchors \(the newest for event #4\) .* and now has 2, the newest for event #2: it was replaced/);
    // The high-water mark stays: new anchors after a truncation pass only once past it.
    await writeFile(file, kept);
    await addEvents(1);
    await anchorHead();
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, externalAnchorsChecked: 3 });
  });

  it("fails when the file is missing once the trail records an anchor file started; not before", async () => {
    await addEvents(2);
    // A fresh install before the worker's first anchor: no file, and no problem.
    expect(await new AuditChainVerifier(undefined, file).verify(db.prisma)).toMatchObject({ ok: true, externalAnchorsChecked: 0 });
    await db.prisma.auditEvent.create({
      data: { actorLogin: "system", action: ANCHOR_FILE_STARTED, entityType: "AuditAnchorFile", entityId: file, after: { path: file } },
    });
    await anchorHead();
    await rm(file);
    // A process that never read the file (the API restarted) still fails: the trail says there was one.
    const status = await new AuditChainVerifier(undefined, file).verify(db.prisma);
    expect(status).toMatchObject({ ok: false, firstBrokenSeq: null, externalAnchorsChecked: 0 });
    expect(status.problem).toMatch(
      new RegExp(`^the anchor file ${file} is missing, but the trail records anchoring to a file since event #3 \\(${file}, \\S+Z\\): it was removed, or its storage is not mounted`),
    );
    // A missing mount whose empty folder remains: the same.
    const mount = join(dir, `mount-${n}`);
    await mkdir(mount);
    expect(await new AuditChainVerifier(undefined, join(mount, "audit-anchors.jsonl")).verify(db.prisma)).toMatchObject({ ok: false });
  });

  it("fails when the API checks another file than the one the trail says the workers write", async () => {
    await addEvents(2);
    await db.prisma.auditEvent.create({
      data: { actorLogin: "system", action: ANCHOR_FILE_STARTED, entityType: "AuditAnchorFile", entityId: file, after: { path: file } },
    });
    await anchorHead();
    expect(await new AuditChainVerifier(undefined, file).verify(db.prisma)).toMatchObject({ ok: true });
    // A stale copy elsewhere, still readable: the API pointed at it would pass a frozen file.
    const elsewhere = join(dir, `stale-${n}.jsonl`);
    await writeFile(elsewhere, await readFile(file, "utf8"));
    const status = await new AuditChainVerifier(undefined, elsewhere).verify(db.prisma);
    expect(status.ok).toBe(false);
    expect(status.problem).toMatch(/^the anchor file checked is .*stale-.*, but the trail records the workers anchoring to .* give the API and every worker the same RCMNET_AUDIT_ANCHOR_FILE$/);
  });

  it("on a quick check reads only the file's tail, and checks the anchors there", async () => {
    await addEvents(3);
    await anchorHead();
    const verifier = new AuditChainVerifier(undefined, file);
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, full: true, externalAnchorsChecked: 1 });
    // A line something else changed, ahead of the last 64 KB: only a full walk reads that far.
    await appendFile(file, `{"seq":"3","hash":"edited"}\n`);
    const filler = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    const line = formatAnchorLine({ seq: filler.seq, hash: filler.hash, at: filler.at, writtenAt: new Date() });
    await appendFile(file, line.repeat(Math.ceil((70 * 1024) / line.length)));
    const quick = await verifier.verify(db.prisma);
    expect(quick).toMatchObject({ ok: true, full: false });
    expect(quick.externalAnchorsChecked).toBe(1 + Math.ceil((70 * 1024) / line.length));
    expect(await verifier.verify(db.prisma, { full: true })).toMatchObject({
      ok: false,
      full: true,
      problem: "line 2 of the anchor file is unreadable: something other than the worker's appends changed the file, and an anchor there may have been erased",
    });

    // The tail's anchors are checked on a quick check: events removed after the newest one.
    const clean = new AuditChainVerifier(undefined, `${file}.clean`);
    await writeFile(`${file}.clean`, line);
    expect(await clean.verify(db.prisma)).toMatchObject({ ok: true, full: true });
    await addEvents(2);
    await anchorHead();
    await appendFile(`${file}.clean`, `${(await readFile(file, "utf8")).split("\n").at(-2)}\n`);
    await db.prisma.$transaction([
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_append_only`),
      db.prisma.$executeRawUnsafe(`DELETE FROM "audit_event" WHERE seq = 5`),
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_append_only`),
    ]);
    const broken = await clean.verify(db.prisma);
    expect(broken).toMatchObject({ ok: false, full: false, firstBrokenSeq: 5 });
    expect(broken.problem).toMatch(/^event #5, anchored outside the database at \S+Z, is missing: the trail ends at event #4/);
  });
});

describe("checking the old anchor file against a restored database (npm run verify-audit)", () => {
  it("checks every anchor up to the restored head; lists those past it, a problem only without the restore point or before it", async () => {
    await addEvents(2);
    await anchorHead();
    await new Promise((r) => setTimeout(r, 10));
    await addEvents(2);
    await anchorHead();
    const lost = await db.prisma.auditEvent.findUniqueOrThrow({ where: { seq: 4n } });
    // The restore: back to the point after event #2, which the backup held.
    await db.prisma.$transaction([
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_append_only`),
      db.prisma.$executeRawUnsafe(`DELETE FROM "audit_event" WHERE seq > 2`),
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_append_only`),
    ]);
    const backupAt = new Date(lost.at.getTime() - 5);

    const known = await checkAnchorFile(db.prisma, file, { restoredTo: backupAt });
    expect(known).toMatchObject({ ok: true, head: 2n, checked: 1, problems: [], chain: { ok: true, checked: 2 } });
    expect(known.pastHead.map((a) => [a.seq, a.line])).toEqual([[4n, 2]]);

    const unknown = await checkAnchorFile(db.prisma, file);
    expect(unknown.ok).toBe(false);
    expect(unknown.problems).toEqual([
      "1 anchor(s) past the trail's head #2: events written after the backup, or removed from the trail's end; give the restore point (--restored-to) to tell them apart",
    ]);
    // A restore point after the anchored event: the backup should have held it.
    expect((await checkAnchorFile(db.prisma, file, { restoredTo: lost.at })).problems).toEqual([
      `event #4 of ${lost.at.toISOString()}, no later than the restore point, is anchored (line 2) but not in the restored database`,
    ]);

    // What the restore guide avoids: the platform started on the old file writes new events
    // with the anchored seqs, and the old anchor #4 then reads as a rewrite.
    await addEvents(2);
    const reused = await checkAnchorFile(db.prisma, file, { restoredTo: backupAt });
    expect(reused.ok).toBe(false);
    expect(reused.problems[0]).toMatch(/^event #4, anchored outside the database at \S+Z, is missing or altered/);
    // An anchor up to the head that does not match is a problem whatever the restore point.
    await rewriteAndRechain(`UPDATE "audit_event" SET "entityId" = 'forged' WHERE seq = 1`, 1);
    expect((await checkAnchorFile(db.prisma, file, { restoredTo: backupAt })).problems[0]).toMatch(/^event #2, anchored outside the database at \S+Z, is missing or altered/);
  });
});
