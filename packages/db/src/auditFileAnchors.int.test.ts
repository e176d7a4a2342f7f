// What the anchors inside the database cannot show: the tables' owner rewriting events and
// recomputing the whole chain (the signatures' anchors too). The chain heads copied to the anchor
// file outside the database show it, and events removed from the end.
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuditChainVerifier, checkAnchorFile } from "./audit.ts";
import { ANCHOR_FILE_STARTED, formatAnchorLine } from "./auditAnchorFile.ts";
import { createTestDatabase, emptyAuditTrail, rewriteAndRechain, type TestDatabase } from "./testing.ts";

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
  await emptyAuditTrail(db.prisma);
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
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, full: false, externalAnchorsChecked: 2, externalAnchorLines: 2 });
    // Heartbeats (a head repeated) are lines, not heads: counted apart, on a full walk and on a quick one alike.
    await anchorHead();
    await anchorHead();
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, full: false, externalAnchorsChecked: 3, externalAnchorLines: 4 });
    await anchorHead();
    expect(await verifier.verify(db.prisma)).toMatchObject({ ok: true, full: false, externalAnchorsChecked: 3, externalAnchorLines: 5 });
    expect(await verifier.verify(db.prisma, { full: true })).toMatchObject({ ok: true, full: true, externalAnchorsChecked: 3, externalAnchorLines: 5 });
  });

  it("finds an event the owner rewrote and re-chained, which the walk and the signatures' anchors cannot", async () => {
    await addEvents(3);
    await anchorHead();
    await addEvents(2);
    await anchorHead();
    const firstAnchor = JSON.parse((await readFile(file, "utf8")).split("\n")[0] ?? "") as { writtenAt: string };
    await rewriteAndRechain(db.prisma, `UPDATE "audit_event" SET "entityId" = 'forged' WHERE seq = 2`, 2);
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
    // One head: the filler lines repeat it (heartbeats), lines counted apart.
    expect(quick.externalAnchorsChecked).toBe(1);
    expect(quick.externalAnchorLines).toBe(1 + Math.ceil((70 * 1024) / line.length));
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
    await rewriteAndRechain(db.prisma, `UPDATE "audit_event" SET "entityId" = 'forged' WHERE seq = 1`, 1);
    expect((await checkAnchorFile(db.prisma, file, { restoredTo: backupAt })).problems[0]).toMatch(/^event #2, anchored outside the database at \S+Z, is missing or altered/);
  });
});

/** Makes the events from `fromSeq` on look `minutes` old, re-chained (what the clock would have made of them). */
async function age(fromSeq: number, minutes: number): Promise<void> {
  await rewriteAndRechain(db.prisma, `UPDATE "audit_event" SET "at" = "at" - interval '${minutes} minutes' WHERE seq >= ${fromSeq}`, fromSeq);
}

describe("anchoring that has stopped", () => {
  it("passes events newer than the grace period, reports them, and fails once the first is older; passes again once anchored", async () => {
    await addEvents(2);
    await anchorHead();
    await addEvents(2);
    // Written just now: awaiting the worker's next anchor, as every event does for a while.
    const recent = await new AuditChainVerifier(undefined, file).verify(db.prisma);
    expect(recent).toMatchObject({
      ok: true,
      problem: null,
      anchorRecency: { checked: true, anchorMinutes: 10, graceMinutes: 25, newestAnchoredSeq: 2n, unanchoredFromSeq: 3n, unanchoredToSeq: 4n, overdue: false },
    });
    expect(Math.abs((recent.anchorRecency.unanchoredSince?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);

    // The worker's writes failed for 26 minutes: more than two intervals and the margin. (Aged
    // by a rewrite, which a verifier that walked the events before would rightly call a break.)
    await age(3, 26);
    const verifier = new AuditChainVerifier(undefined, file);
    const event3 = await db.prisma.auditEvent.findUniqueOrThrow({ where: { seq: 3n } });
    const anchor = JSON.parse((await readFile(file, "utf8")).split("\n")[0] ?? "") as { writtenAt: string };
    const stopped = await verifier.verify(db.prisma);
    expect(stopped).toMatchObject({ ok: false, firstBrokenSeq: null, checked: 4, externalAnchorsChecked: 1, anchorRecency: { overdue: true, unanchoredFromSeq: 3n } });
    expect(stopped.problem).toBe(
      `events #3-#4 are not anchored outside the database: the newest anchor in ${file} is for event #2 (written ${anchor.writtenAt}), ` +
        `and event #3 dates from ${event3.at.toISOString()}, more than 25 minutes ago; anchors are due every 10 minutes (RCMNET_AUDIT_ANCHOR_MINUTES). ` +
        `Anchoring has stopped: check that a worker anchoring (RCMNET_AUDIT_ANCHOR_MINUTES above 0) is running, its log ("audit chain head not anchored", ` +
        `"anchor file missing"), and that it can write ${file} (permissions, free disk space); a worker just started writes its first line half a ` +
        `minute after its model backend has loaded (npm start writes one before it starts the API). Until then events written since can be ` +
        `rewritten or removed without trace`,
    );
    expect(stopped.anchorRecency).toMatchObject({ writerSilent: false, eventsOverdue: true, intervalDeclared: false });
    // A quick check and a full one alike.
    expect(await verifier.verify(db.prisma, { full: true })).toMatchObject({ ok: false, full: true, anchorRecency: { overdue: true } });

    // The worker writes again: not kept as a break.
    await anchorHead();
    expect(await verifier.verify(db.prisma)).toMatchObject({
      ok: true,
      problem: null,
      anchorRecency: { checked: true, newestAnchoredSeq: 4n, unanchoredFromSeq: null, unanchoredSince: null, overdue: false },
    });
  });

  it("fails on a trail with no anchor at all once its first event is older than the grace period, file or none", async () => {
    await addEvents(2);
    // A fresh install: the worker's first anchor is due half a minute after its model backend has loaded.
    expect(await new AuditChainVerifier(undefined, file).verify(db.prisma)).toMatchObject({ ok: true, anchorRecency: { newestAnchoredSeq: null, unanchoredFromSeq: 1n } });
    await age(1, 30);
    const none = await new AuditChainVerifier(undefined, file).verify(db.prisma);
    expect(none).toMatchObject({ ok: false, externalAnchorsChecked: 0, anchorRecency: { overdue: true } });
    expect(none.problem).toMatch(new RegExp(`^events #1-#2 are not anchored outside the database: there is no anchor file at ${file}, and event #1 dates from \\S+Z, more than 25 minutes ago; `));
    await writeFile(file, "");
    expect((await new AuditChainVerifier(undefined, file).verify(db.prisma)).problem).toMatch(new RegExp(`^events #1-#2 are not anchored outside the database: ${file} holds no anchor, `));
  });

  it("derives the grace period from the interval; with anchoring off (0) does not check, and says so", async () => {
    await addEvents(1);
    await anchorHead();
    await addEvents(1);
    await age(2, 10);
    // Anchors every 10 minutes: 25 allowed. Every minute: 2 + 5 = 7.
    expect(await new AuditChainVerifier(undefined, file, 10).verify(db.prisma)).toMatchObject({ ok: true, anchorRecency: { graceMinutes: 25, overdue: false } });
    const everyMinute = await new AuditChainVerifier(undefined, file, 1).verify(db.prisma);
    expect(everyMinute).toMatchObject({ ok: false, anchorRecency: { anchorMinutes: 1, graceMinutes: 7, overdue: true } });
    expect(everyMinute.problem).toMatch(/^event #2 is not anchored outside the database: .*, more than 7 minutes ago; anchors are due every 1 minutes /);

    await age(2, 60 * 24 * 7);
    // Anchoring off here, but the file holds anchors that declare no interval: not checked, and
    // that fails (a checker left at 0 would pass a stopped writer for ever).
    const off = await new AuditChainVerifier(undefined, file, 0).verify(db.prisma);
    expect(off).toMatchObject({
      ok: false,
      firstBrokenSeq: null,
      externalAnchorsChecked: 1,
      anchorRecency: { checked: false, anchorMinutes: 0, graceMinutes: null, unanchoredFromSeq: null, overdue: false },
    });
    expect(off.problem).toMatch(
      new RegExp(`^RCMNET_AUDIT_ANCHOR_MINUTES is 0 for this check \\(anchoring off\\), but ${file} holds anchors \\(the newest line written \\S+Z, declaring no interval\\): whether anchoring has stopped is not checked\\. Give this check the workers' RCMNET_AUDIT_ANCHOR_MINUTES$`),
    );
    expect(off.anchorRecency.problem).toBe(off.problem);
    // No anchor file to check: nothing to say either way.
    expect(await new AuditChainVerifier().verify(db.prisma)).toMatchObject({ ok: true, anchorRecency: { checked: false, anchorMinutes: 10 } });
  });

  it("with anchoring off here (0): passes, not checked, while nothing shows anchoring on; fails once the trail records a file started", async () => {
    await addEvents(1);
    const off = await new AuditChainVerifier(undefined, file, 0).verify(db.prisma);
    expect(off).toMatchObject({ ok: true, problem: null, anchorRecency: { checked: false, anchorMinutes: 0, problem: null } });
    await db.prisma.auditEvent.create({
      data: { actorLogin: "system", action: ANCHOR_FILE_STARTED, entityType: "AuditAnchorFile", entityId: file, after: { path: file } },
    });
    await writeFile(file, ""); // started, no line written yet
    const started = await new AuditChainVerifier(undefined, file, 0).verify(db.prisma);
    expect(started).toMatchObject({ ok: false, firstBrokenSeq: null, anchorRecency: { checked: false } });
    expect(started.problem).toMatch(
      new RegExp(`^RCMNET_AUDIT_ANCHOR_MINUTES is 0 for this check \\(anchoring off\\), but the trail records anchoring to ${file} since event #2 \\(\\S+Z\\): whether anchoring has stopped is not checked\\. `),
    );
    // A line that declares its writer's interval: judged by it, whatever this checker's setting.
    const head = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    await appendFile(file, formatAnchorLine({ seq: head.seq, hash: head.hash, at: head.at, writtenAt: new Date(), everyMinutes: 10 }));
    expect(await new AuditChainVerifier(undefined, file, 0).verify(db.prisma)).toMatchObject({
      ok: true,
      problem: null,
      anchorRecency: { checked: true, anchorMinutes: 10, intervalDeclared: true, graceMinutes: 25, overdue: false },
    });
  });

  it("checkAnchorFile (verify-audit) measures at the restore point when given, else now", async () => {
    await addEvents(2);
    await anchorHead();
    await addEvents(2);
    await age(3, 40);
    const event3 = await db.prisma.auditEvent.findUniqueOrThrow({ where: { seq: 3n } });
    const now = await checkAnchorFile(db.prisma, file);
    expect(now).toMatchObject({ ok: false, recency: { overdue: true, unanchoredFromSeq: 3n, unanchoredToSeq: 4n } });
    expect(now.problems).toEqual([expect.stringMatching(/^events #3-#4 are not anchored outside the database: .* more than 25 minutes ago; .*Anchoring has stopped: /)]);
    // A backup taken 10 minutes after event #3: the workers had 25 minutes to anchor it.
    const soon = new Date(event3.at.getTime() + 10 * 60_000);
    expect(await checkAnchorFile(db.prisma, file, { restoredTo: soon })).toMatchObject({ ok: true, problems: [], recency: { overdue: false, unanchoredFromSeq: 3n } });
    const late = new Date(event3.at.getTime() + 30 * 60_000);
    const stale = await checkAnchorFile(db.prisma, file, { restoredTo: late });
    expect(stale.problems).toEqual([
      expect.stringMatching(
        new RegExp(`^events #3-#4 are not anchored outside the database: .*, more than 25 minutes before the restore point \\(${late.toISOString()}\\); .*Anchoring had stopped by then`),
      ),
    ]);
    // Anchoring off for the check, but the file holds anchors: said, and a problem.
    const off = await checkAnchorFile(db.prisma, file, { anchorMinutes: 0 });
    expect(off).toMatchObject({ ok: false, recency: { checked: false } });
    expect(off.problems).toEqual([expect.stringMatching(/^RCMNET_AUDIT_ANCHOR_MINUTES is 0 for this check \(anchoring off\), but .* holds anchors /)]);
  });

  it("checkAnchorFile (verify-audit) judges the file's newest line written by the restore point, and heartbeats past the head once each", async () => {
    await addEvents(2);
    await age(1, 60);
    const head = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
    // Anchored 55 minutes ago, a heartbeat of the same head 10 minutes later, then nothing: the
    // worker stopped 45 minutes ago.
    const line = (writtenAt: Date) => formatAnchorLine({ seq: head.seq, hash: head.hash, at: head.at, writtenAt, everyMinutes: 10 });
    await appendFile(file, line(minutesAgo(55)) + line(minutesAgo(45)));
    const stoppedAt = minutesAgo(45);
    expect(await checkAnchorFile(db.prisma, file, { restoredTo: minutesAgo(40) })).toMatchObject({
      ok: true,
      problems: [],
      checked: 2,
      recency: { checked: true, anchorMinutes: 10, intervalDeclared: true, unanchoredFromSeq: null, writerSilent: false, overdue: false },
    });
    // A line written after the restore point does not vouch for it.
    expect(await checkAnchorFile(db.prisma, file, { restoredTo: minutesAgo(50) })).toMatchObject({ ok: true, recency: { writerSilent: false } });
    const late = minutesAgo(10);
    const stale = await checkAnchorFile(db.prisma, file, { restoredTo: late });
    expect(stale).toMatchObject({ ok: false, recency: { writerSilent: true, eventsOverdue: false, overdue: true, unanchoredFromSeq: null } });
    expect(stale.recency.lastWrittenAt?.getTime()).toBeCloseTo(stoppedAt.getTime(), -3);
    expect(stale.problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^nothing had been written to ${file} since \\S+Z \\(its newest line by the restore point, for event #2\\), more than 25 minutes before the restore point \\(${late.toISOString()}\\); ` +
            `anchors are due every 10 minutes \\(as the file's newest line declares\\)\\. Anchoring had stopped by then, .* For a backup copied with the platform stopped, give the time it stopped`,
        ),
      ),
    ]);

    // Heartbeats of heads the restore lost: listed once per head (its first line).
    await addEvents(1);
    const lost = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    const lostLine = (writtenAt: Date) => formatAnchorLine({ seq: lost.seq, hash: lost.hash, at: lost.at, writtenAt, everyMinutes: 10 });
    await appendFile(file, lostLine(new Date()) + lostLine(new Date()) + lostLine(new Date()));
    await db.prisma.$transaction([
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_append_only`),
      db.prisma.$executeRawUnsafe(`DELETE FROM "audit_event" WHERE seq = ${lost.seq}`),
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_append_only`),
    ]);
    const restored = await checkAnchorFile(db.prisma, file, { restoredTo: minutesAgo(40) });
    expect(restored.pastHead.map((a) => [a.seq, a.line])).toEqual([[lost.seq, 3]]);
  });
});

describe("a writer that stopped, whatever the database says (heartbeats)", () => {
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

  /** A line for the head as the worker writes it, at `writtenAt`, declaring `everyMinutes`. */
  async function fileHead(writtenAt: Date, everyMinutes = 10, { stop = false } = {}): Promise<void> {
    const head = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    await appendFile(file, formatAnchorLine({ seq: head.seq, hash: head.hash, at: head.at, writtenAt, everyMinutes, ...(stop ? { stop } : {}) }));
  }

  it("fails once the file's newest line is older than the grace period by this host's clock, though the owner dated the events later or deleted them", async () => {
    await addEvents(2);
    // The worker's last line, 40 minutes ago; it has written nothing since.
    await fileHead(minutesAgo(40));
    // The events since look fresh: written now, or dated forward by the owner and re-chained.
    await addEvents(2);
    const verifier = new AuditChainVerifier(undefined, file);
    const stopped = await verifier.verify(db.prisma);
    expect(stopped).toMatchObject({
      ok: false,
      firstBrokenSeq: null,
      anchorRecency: { checked: true, anchorMinutes: 10, intervalDeclared: true, graceMinutes: 25, unanchoredFromSeq: 3n, writerSilent: true, eventsOverdue: false, overdue: true },
    });
    expect(stopped.problem).toMatch(
      new RegExp(
        `^nothing has been written to ${file} since \\S+Z \\(its newest line, for event #2\\), more than 25 minutes before this check \\(\\S+Z by this host's clock\\); ` +
          `anchors are due every 10 minutes \\(as the file's newest line declares\\)\\. Anchoring has stopped: check that a worker anchoring `,
      ),
    );
    // The owner deletes the unanchored events before a verifier that walked them (this one would
    // call that a break) has seen them: every event left is anchored, and it still fails.
    await db.prisma.$transaction([
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_append_only`),
      db.prisma.$executeRawUnsafe(`DELETE FROM "audit_event" WHERE seq > 2`),
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_append_only`),
    ]);
    const fresh = new AuditChainVerifier(undefined, file);
    for (const full of [true, false]) {
      expect(await fresh.verify(db.prisma, { full })).toMatchObject({
        ok: false,
        firstBrokenSeq: null,
        anchorRecency: { unanchoredFromSeq: null, writerSilent: true, eventsOverdue: false },
      });
    }
    // A heartbeat now (the same head, its own time): the writer is back, and it passes.
    await fileHead(new Date());
    expect(await fresh.verify(db.prisma)).toMatchObject({
      ok: true,
      problem: null,
      externalAnchorsChecked: 1,
      externalAnchorLines: 2,
      anchorRecency: { writerSilent: false, overdue: false },
    });
  });

  it("judges by the interval the newest line declares, not by this checker's setting", async () => {
    await addEvents(1);
    await fileHead(minutesAgo(26));
    // The API told 2 hours, the workers anchoring every 10 minutes: 25 minutes allowed, not 245.
    expect(await new AuditChainVerifier(undefined, file, 120).verify(db.prisma)).toMatchObject({
      ok: false,
      anchorRecency: { anchorMinutes: 10, intervalDeclared: true, graceMinutes: 25, writerSilent: true },
    });
    // Workers declaring an hour: 40 minutes of silence is within their 125 where this checker is
    // told an hour or more (or 0: it has no setting of its own to hold the line to).
    await fileHead(minutesAgo(40), 60);
    for (const own of [60, 120, 0]) {
      expect(await new AuditChainVerifier(undefined, file, own).verify(db.prisma), String(own)).toMatchObject({
        ok: true,
        anchorRecency: { anchorMinutes: 60, intervalDeclared: true, graceMinutes: 125, writerSilent: false, intervalTooLong: false },
      });
    }
  });

  it("fails where a line declares a longer interval than this checker's own setting, judging by its own", async () => {
    await addEvents(1);
    await fileHead(minutesAgo(1), 60);
    const wide = await new AuditChainVerifier(undefined, file, 10).verify(db.prisma);
    expect(wide).toMatchObject({
      ok: false,
      firstBrokenSeq: null,
      anchorRecency: { anchorMinutes: 10, intervalDeclared: false, graceMinutes: 25, intervalTooLong: true, writerSilent: false, overdue: false },
    });
    expect(wide.problem).toBe(
      "the file's newest line declares anchors every 60 minutes, more than this check's RCMNET_AUDIT_ANCHOR_MINUTES (10): judged by 10 minutes instead; " +
        "give the workers and this check the same RCMNET_AUDIT_ANCHOR_MINUTES; anchors are due every 10 minutes (RCMNET_AUDIT_ANCHOR_MINUTES)",
    );
    // A day declared, 40 minutes silent: judged by 10 minutes, it is silent too.
    await fileHead(minutesAgo(40), 24 * 60);
    const silent = await new AuditChainVerifier(undefined, file, 10).verify(db.prisma);
    expect(silent).toMatchObject({ ok: false, anchorRecency: { intervalTooLong: true, writerSilent: true, overdue: true } });
    expect(silent.problem).toMatch(/^the file's newest line declares anchors every 1440 minutes, .*; and nothing has been written to /);
    expect(await checkAnchorFile(db.prisma, file, { anchorMinutes: 10 })).toMatchObject({ ok: false, recency: { intervalTooLong: true } });
  });

  it("does not take a clean stop's last line for a silent writer while no event follows it; an event after it is judged", async () => {
    await addEvents(2);
    // The platform stopped cleanly three days ago: its last line says so, and anchors the head.
    await fileHead(minutesAgo(3 * 24 * 60), 10, { stop: true });
    const stopped = await new AuditChainVerifier(undefined, file).verify(db.prisma);
    expect(stopped).toMatchObject({ ok: true, problem: null, anchorRecency: { stoppedCleanly: true, writerSilent: false, overdue: false, unanchoredFromSeq: null } });
    expect(await checkAnchorFile(db.prisma, file)).toMatchObject({ ok: true, recency: { stoppedCleanly: true, writerSilent: false } });
    // The same line without the mark: a writer that stopped without a word.
    await writeFile(file, "");
    await fileHead(minutesAgo(3 * 24 * 60));
    expect(await new AuditChainVerifier(undefined, file).verify(db.prisma)).toMatchObject({ ok: false, anchorRecency: { stoppedCleanly: false, writerSilent: true } });
    // An event after the stop line: something wrote while no writer anchored.
    await writeFile(file, "");
    await fileHead(minutesAgo(3 * 24 * 60), 10, { stop: true });
    await addEvents(1);
    const after = await new AuditChainVerifier(undefined, file).verify(db.prisma);
    expect(after).toMatchObject({ ok: false, anchorRecency: { stoppedCleanly: false, writerSilent: true, unanchoredFromSeq: 3n } });
  });

  it("fails when the newest line was written more than 5 minutes ahead of this host's clock: clocks out of sync", async () => {
    await addEvents(1);
    // A worker whose clock runs an hour fast: its line would pass as fresh for an hour after it stopped.
    await fileHead(new Date(Date.now() + 60 * 60_000));
    const ahead = await new AuditChainVerifier(undefined, file).verify(db.prisma);
    expect(ahead).toMatchObject({ ok: false, firstBrokenSeq: null, anchorRecency: { writtenInFuture: true, writerSilent: false, overdue: false } });
    expect(ahead.problem).toMatch(/^the file's newest line \(for event #1\) was written \S+Z, in the future: clocks out of sync \(more than 5 minutes after this check, \S+Z by this host's clock\)/);
    expect(await checkAnchorFile(db.prisma, file)).toMatchObject({ ok: false, recency: { writtenInFuture: true } });
    // A few minutes ahead is clocks a little apart: passes.
    await fileHead(new Date(Date.now() + 2 * 60_000));
    expect(await new AuditChainVerifier(undefined, file).verify(db.prisma)).toMatchObject({ ok: true, anchorRecency: { writtenInFuture: false } });
  });
});
