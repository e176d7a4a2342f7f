// The worker's copy of the audit chain head to the anchor file, on a real PostgreSQL: a line per
// change of the head, and a heartbeat of an unchanged one once half an interval has passed, each
// declaring the interval, the same line logged, a crash's torn line closed before the next; the
// file created only for the database's first anchor, never again once it is gone.
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ANCHOR_FILE_STARTED, AuditChainVerifier, createPrismaClient, readAnchorFile } from "@rcmnet/db";
import { createTestDatabase, emptyAuditTrail, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AnchorFileMissingError, anchorAuditHead, startAuditAnchoring } from "./anchorAuditHead.ts";
import type { JobLogger } from "./types.ts";

let db: TestDatabase;
let dir: string;
let file: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "rcmnet-anchor-"));
});
afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function emptyTrail(): Promise<void> {
  await emptyAuditTrail(db.prisma);
}

let n = 0;
// Each test starts as a new database would: an empty trail, and no anchor file started.
beforeEach(async () => {
  await emptyTrail();
  file = join(dir, `audit-anchors-${++n}.jsonl`);
});

const startedEvents = () =>
  db.prisma.auditEvent.findMany({ where: { action: ANCHOR_FILE_STARTED }, orderBy: { seq: "asc" }, select: { seq: true, actorLogin: true, before: true, after: true } });

/** A logger that keeps what it was given. */
function recordingLog(): JobLogger & { lines: { message: string; fields?: Record<string, unknown> }[] } {
  const lines: { message: string; fields?: Record<string, unknown> }[] = [];
  const keep = (message: string, fields?: Record<string, unknown>) => void lines.push({ message, fields });
  return { lines, info: keep, warn: keep, error: keep };
}

async function addEvent(): Promise<void> {
  await db.prisma.auditEvent.create({ data: { actorLogin: "tech", action: "case.create", entityType: "Case", entityId: `c-${Math.random()}` } });
}

/**
 * Polls `check` until it holds (or fails the test after 15 s: under the whole suite's parallel
 * load a 5 s wait for a 20 ms tick's write timed out once in a clean-clone CI run).
 */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (const started = Date.now(); !(await check().catch(() => false)); ) {
    if (Date.now() - started > 15_000) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fileLines = async () => (await readFile(file, "utf8")).split("\n");

describe("anchorAuditHead", () => {
  it("appends the head once per change, fsynced as one JSON line, and logs the same line", async () => {
    const log = recordingLog();
    await addEvent();
    await addEvent();
    // The first anchor of this database: the file is started, which the trail records first, so
    // that the anchor covers that record too.
    expect(await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 })).not.toBeNull();
    const head = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    expect(head).toMatchObject({ seq: 3n, action: ANCHOR_FILE_STARTED, actorLogin: "system", after: { path: file } });
    // Unchanged head: nothing written, nothing logged.
    expect(await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 })).toBeNull();
    await addEvent();
    expect(await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 })).toMatchObject({ seq: head.seq + 1n });
    expect(await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 })).toBeNull();

    const lines = await fileLines();
    expect(lines).toHaveLength(3); // two anchors, then "" after the last newline
    const first = JSON.parse(lines[0] ?? "");
    expect(first).toEqual({ seq: head.seq.toString(), hash: head.hash, at: head.at.toISOString(), writtenAt: expect.stringMatching(/Z$/), everyMinutes: 10 });
    expect(log.lines.map((l) => [l.message, l.fields?.auditAnchor])).toEqual([
      ["audit anchor file started", undefined],
      ["audit chain head anchored", first],
      ["audit chain head anchored", JSON.parse(lines[1] ?? "")],
    ]);
    const read = await readAnchorFile(file);
    expect(read.problems).toEqual([]);
    expect(read.anchors.map((a) => a.seq)).toEqual([head.seq, head.seq + 1n]);
  });

  it("closes a torn last line before writing, and says so; the reader then takes neither as a problem", async () => {
    const log = recordingLog();
    await addEvent();
    await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 });
    await appendFile(file, `{"seq":"999","hash":"ab`); // the crash
    await addEvent();
    const anchor = await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 });
    const lines = await fileLines();
    expect(lines[1]).toBe(`{"seq":"999","hash":"ab`);
    expect(JSON.parse(lines[2] ?? "")).toMatchObject({ seq: anchor?.seq.toString(), afterTornLine: true });
    expect(lines[3]).toBe("");
    const read = await readAnchorFile(file);
    expect(read.problems).toEqual([]);
    expect(read.anchors.map((a) => a.line)).toEqual([1, 3]);
  });

  it("writes nothing, not even an empty file, for an empty trail; writers on two workers add one line, and one start", async () => {
    expect(await anchorAuditHead(db.prisma, file, { log: recordingLog(), everyMinutes: 10 })).toBeNull();
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    await addEvent();
    // Two clients, as two worker processes have: each writer holds its own connection.
    const other = createPrismaClient(db.url, { max: 5 });
    try {
      const writers = Array.from({ length: 8 }, (_, i) => anchorAuditHead(i % 2 ? other : db.prisma, file, { log: recordingLog(), everyMinutes: 10 }));
      expect((await Promise.all(writers)).filter(Boolean)).toHaveLength(1);
    } finally {
      await other.$disconnect();
    }
    expect(await fileLines()).toHaveLength(2);
    expect(await startedEvents()).toHaveLength(1);
  });

  it("anchors at start-up, then on its timer; a file it cannot write is logged, not thrown", async () => {
    await addEvent();
    const log = recordingLog();
    const anchoring = startAuditAnchoring(db.prisma, file, { everyMinutes: 10, everyMs: 50, log });
    await until(async () => (await readAnchorFile(file)).anchors.length === 1);
    await addEvent();
    await until(async () => (await readAnchorFile(file)).anchors.length === 2);
    await anchoring.stop();
    // Ticks on an unchanged head within half an interval of its line add none; the stop adds one.
    expect(log.lines.map((l) => l.message)).toEqual(["audit anchor file started", "audit chain head anchored", "audit chain head anchored", "audit chain head anchored"]);
    const lines = (await readAnchorFile(file)).anchors;
    expect(lines.map((a) => a.seq)).toEqual([2n, 3n, 3n]);
    expect(lines[2]?.writtenAt.getTime()).toBeGreaterThanOrEqual(lines[1]?.writtenAt.getTime() ?? Infinity);
  });

  it("writes a heartbeat of an unchanged head once half an interval has passed since its line, or when forced; the verifier reads them as anchors", async () => {
    await addEvent();
    const log = recordingLog();
    const anchor = await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 });
    expect(await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 })).toBeNull();
    // The worker's own line, 6 minutes ago: more than half of its 10 minutes.
    await writeFile(file, `${(await fileLines())[0]?.replace(/"writtenAt":"[^"]+"/, `"writtenAt":"${new Date(Date.now() - 6 * 60_000).toISOString()}"`)}\n`);
    const heartbeat = await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 });
    expect(heartbeat).toMatchObject({ seq: anchor?.seq, hash: anchor?.hash, at: anchor?.at, everyMinutes: 10 });
    expect(Date.now() - (heartbeat?.writtenAt.getTime() ?? 0)).toBeLessThan(60_000);
    // Within half an interval again: none, unless forced (a clean stop).
    expect(await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 })).toBeNull();
    expect(await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10, force: true })).toMatchObject({ seq: anchor?.seq });
    const read = await readAnchorFile(file);
    expect(read.problems).toEqual([]);
    expect(read.anchors.map((a) => [a.seq, a.everyMinutes])).toEqual([
      [anchor?.seq, 10],
      [anchor?.seq, 10],
      [anchor?.seq, 10],
    ]);
    // Logged like any anchor, for the log shipper's copy.
    expect(log.lines.filter((l) => l.message === "audit chain head anchored")).toHaveLength(3);
    expect(await new AuditChainVerifier(undefined, file).verify(db.prisma, { full: true })).toMatchObject({
      ok: true,
      externalAnchorsChecked: 1,
      externalAnchorLines: 3,
      anchorRecency: { intervalDeclared: true, anchorMinutes: 10, writerSilent: false, unanchoredFromSeq: null },
    });
  });

  it("a clean stop anchors the head once more: a restart days later finds no events left unanchored", async () => {
    await addEvent();
    const log = recordingLog();
    // Stopped before its first tick, as a worker stopped within an interval of the last events.
    const anchoring = startAuditAnchoring(db.prisma, file, { everyMinutes: 10, log, firstAfterMs: 60_000 });
    await addEvent();
    await anchoring.stop();
    const head = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    expect((await readAnchorFile(file)).anchors.map((a) => [a.seq, a.stop])).toEqual([[head.seq, true]]);
    expect(JSON.parse((await fileLines())[0] ?? "")).toMatchObject({ seq: head.seq.toString(), everyMinutes: 10, stop: true });
    expect(log.lines.map((l) => l.message)).toEqual(["audit anchor file started", "audit chain head anchored"]);
    const verdict = await new AuditChainVerifier(undefined, file).verify(db.prisma);
    expect(verdict).toMatchObject({ ok: true, anchorRecency: { checked: true, newestAnchoredSeq: head.seq, unanchoredFromSeq: null, stoppedCleanly: true } });
    // Restarted at once: its first line is written although the stop line is seconds old (a
    // running writer says so; the stop line stays the last only while none runs).
    expect(await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 })).toMatchObject({ seq: head.seq });
    expect((await readAnchorFile(file)).anchors.map((a) => a.stop ?? false)).toEqual([true, false]);
    expect(await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 })).toBeNull();
  });

  it("takes a last line later than its own clock (a fast writer's) as stale: writes anyway, and logs the skew", async () => {
    await addEvent();
    const log = recordingLog();
    await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 });
    // The same head, by a worker whose clock runs an hour fast.
    const ahead = new Date(Date.now() + 60 * 60_000);
    await writeFile(file, `${(await fileLines())[0]?.replace(/"writtenAt":"[^"]+"/, `"writtenAt":"${ahead.toISOString()}"`)}\n`);
    const written = await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 });
    expect(written).not.toBeNull();
    expect((written?.writtenAt.getTime() ?? Infinity) < ahead.getTime()).toBe(true);
    const skew = log.lines.find((l) => l.message.startsWith("audit anchor file's last line is later than this host's clock"));
    expect(skew?.fields).toMatchObject({ path: file, lastWrittenAt: ahead.toISOString() });
    expect(skew?.fields?.aheadMs).toBeGreaterThan(59 * 60_000);
    expect((await readAnchorFile(file)).anchors).toHaveLength(2);
  });

  it("after a suspend (timers late, the wall clock moved on) writes at its next tick, by the wall clock; not before an interval has passed", async () => {
    await addEvent();
    const log = recordingLog();
    let clock = Date.now();
    // An interval of 10 minutes, ticking every 20 ms (a minute in production), on a clock the test moves.
    const anchoring = startAuditAnchoring(db.prisma, file, { everyMinutes: 10, tickMs: 20, log, now: () => clock });
    await until(async () => (await readAnchorFile(file)).anchors.length === 1);
    await addEvent();
    // Ticks while the wall clock shows less than an interval since the write: no line, the head moved or not.
    clock += 9 * 60_000;
    await new Promise((r) => setTimeout(r, 200));
    expect((await readAnchorFile(file)).anchors).toHaveLength(1);
    // The host slept: the wall clock jumped past the interval, the monotonic timer did not.
    clock += 2 * 60_000;
    await until(async () => (await readAnchorFile(file)).anchors.length === 2);
    await anchoring.stop();
    expect((await readAnchorFile(file)).anchors.map((a) => a.stop ?? false)).toEqual([false, false, true]);
  });

  it("a first file it cannot create (no folder: a missing mount) is logged, not thrown, and nothing recorded", async () => {
    await addEvent();
    const broken = recordingLog();
    const nowhere = startAuditAnchoring(db.prisma, join(dir, "no-such-mount", "anchors.jsonl"), { everyMinutes: 10, log: broken });
    await nowhere.stop();
    // At start-up, and the last try at the stop.
    const notAnchored = { message: "audit chain head not anchored", fields: { error: expect.stringMatching(/ENOENT/) } };
    expect(broken.lines).toEqual([notAnchored, notAnchored]);
    expect(await startedEvents()).toEqual([]);
  });
});

describe("an anchor file that is gone", () => {
  it("is not created again once the trail records one started: an error at every tick, and the verifier fails", async () => {
    await addEvent();
    const log = recordingLog();
    await anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 });
    await rm(file);
    await addEvent();
    await expect(anchorAuditHead(db.prisma, file, { log, everyMinutes: 10 })).rejects.toThrow(AnchorFileMissingError);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);

    const ticks = recordingLog();
    const anchoring = startAuditAnchoring(db.prisma, file, { everyMinutes: 10, everyMs: 30, log: ticks });
    await until(async () => ticks.lines.length >= 2);
    await anchoring.stop();
    expect(ticks.lines[0]).toEqual({ message: expect.stringMatching(new RegExp(`^anchor file missing: ${file} \\(this database has anchored to a file since audit event #2, last ${file}; it is not created again`)), fields: { path: file } });
    expect(ticks.lines[1]?.message).toBe(ticks.lines[0]?.message);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);

    // The API's verifier, in a process that never read the file, says so too.
    const verdict = await new AuditChainVerifier(undefined, file).verify(db.prisma);
    expect(verdict).toMatchObject({ ok: false, externalAnchorsChecked: 0 });
    expect(verdict.problem).toMatch(/^the anchor file .* is missing, but the trail records anchoring to a file since event #2 /);
  });

  it("is not started at another path (RCMNET_AUDIT_ANCHOR_FILE re-pointed, a mount's empty folder), unless an operator creates it; then the trail records the change", async () => {
    await addEvent();
    await anchorAuditHead(db.prisma, file, { log: recordingLog(), everyMinutes: 10 });
    const mount = join(dir, `mount-${n}`);
    await mkdir(mount);
    const elsewhere = join(mount, "audit-anchors.jsonl");
    await expect(anchorAuditHead(db.prisma, elsewhere, { log: recordingLog(), everyMinutes: 10 })).rejects.toThrow(`anchor file missing: ${elsewhere}`);
    await expect(stat(elsewhere)).rejects.toThrow(/ENOENT/);

    // After a restore (docs/operations.md): a new empty file, created by hand.
    await writeFile(elsewhere, "");
    const log = recordingLog();
    const anchor = await anchorAuditHead(db.prisma, elsewhere, { log, everyMinutes: 10 });
    expect(await startedEvents()).toEqual([
      { seq: 2n, actorLogin: "system", before: null, after: { path: file } },
      { seq: anchor?.seq, actorLogin: "system", before: { path: file }, after: { path: elsewhere } },
    ]);
    expect(log.lines[0]).toEqual({ message: "audit anchor file started", fields: { path: elsewhere, previousPath: file } });
    expect((await readAnchorFile(elsewhere)).anchors.map((a) => a.seq)).toEqual([anchor?.seq]);
  });

  it("records a file a worker from before such records started (an upgrade), without writing it anew", async () => {
    await addEvent();
    const earlier = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    await writeFile(file, `{"seq":"${earlier.seq}","hash":"${earlier.hash}","at":"${earlier.at.toISOString()}","writtenAt":"${new Date().toISOString()}"}\n`);
    await anchorAuditHead(db.prisma, file, { log: recordingLog(), everyMinutes: 10 });
    expect(await startedEvents()).toEqual([{ seq: 2n, actorLogin: "system", before: null, after: { path: file } }]);
    expect((await readAnchorFile(file)).anchors.map((a) => a.seq)).toEqual([1n, 2n]);
  });
});
