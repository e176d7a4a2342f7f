// The worker's copy of the audit chain head to the anchor file, on a real PostgreSQL: one line
// per change of the head, the same line logged, a crash's torn line closed before the next.
import { appendFile, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPrismaClient, readAnchorFile } from "@rcmnet/db";
import { createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anchorAuditHead, startAuditAnchoring } from "./anchorAuditHead.ts";
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

let n = 0;
beforeEach(() => {
  file = join(dir, `audit-anchors-${++n}.jsonl`);
});

/** A logger that keeps what it was given. */
function recordingLog(): JobLogger & { lines: { message: string; fields?: Record<string, unknown> }[] } {
  const lines: { message: string; fields?: Record<string, unknown> }[] = [];
  const keep = (message: string, fields?: Record<string, unknown>) => void lines.push({ message, fields });
  return { lines, info: keep, warn: keep, error: keep };
}

async function addEvent(): Promise<void> {
  await db.prisma.auditEvent.create({ data: { actorLogin: "tech", action: "case.create", entityType: "Case", entityId: `c-${Math.random()}` } });
}

/** Polls `check` until it holds (or fails the test after 5 s). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (const started = Date.now(); !(await check().catch(() => false)); ) {
    if (Date.now() - started > 5_000) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fileLines = async () => (await readFile(file, "utf8")).split("\n");

describe("anchorAuditHead", () => {
  it("appends the head once per change, fsynced as one JSON line, and logs the same line", async () => {
    const log = recordingLog();
    await addEvent();
    await addEvent();
    const head = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    expect(await anchorAuditHead(db.prisma, file, { log })).toMatchObject({ seq: head.seq, hash: head.hash, at: head.at });
    // Unchanged head: nothing written, nothing logged.
    expect(await anchorAuditHead(db.prisma, file, { log })).toBeNull();
    await addEvent();
    expect(await anchorAuditHead(db.prisma, file, { log })).toMatchObject({ seq: head.seq + 1n });
    expect(await anchorAuditHead(db.prisma, file, { log })).toBeNull();

    const lines = await fileLines();
    expect(lines).toHaveLength(3); // two anchors, then "" after the last newline
    const first = JSON.parse(lines[0] ?? "");
    expect(first).toEqual({ seq: head.seq.toString(), hash: head.hash, at: head.at.toISOString(), writtenAt: expect.stringMatching(/Z$/) });
    expect(log.lines.map((l) => [l.message, l.fields?.auditAnchor])).toEqual([
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
    await anchorAuditHead(db.prisma, file, { log });
    await appendFile(file, `{"seq":"999","hash":"ab`); // the crash
    await addEvent();
    const anchor = await anchorAuditHead(db.prisma, file, { log });
    const lines = await fileLines();
    expect(lines[1]).toBe(`{"seq":"999","hash":"ab`);
    expect(JSON.parse(lines[2] ?? "")).toMatchObject({ seq: anchor?.seq.toString(), afterTornLine: true });
    expect(lines[3]).toBe("");
    const read = await readAnchorFile(file);
    expect(read.problems).toEqual([]);
    expect(read.anchors.map((a) => a.line)).toEqual([1, 3]);
  });

  it("writes nothing, not even an empty file, for an empty trail; writers on two workers add one line", async () => {
    await db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_no_truncate`);
    await db.prisma.$executeRawUnsafe(`TRUNCATE "audit_event"`);
    await db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_no_truncate`);
    expect(await anchorAuditHead(db.prisma, file, { log: recordingLog() })).toBeNull();
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    await addEvent();
    // Two clients, as two worker processes have: each writer holds its own connection.
    const other = createPrismaClient(db.url, { max: 5 });
    try {
      const writers = Array.from({ length: 8 }, (_, i) => anchorAuditHead(i % 2 ? other : db.prisma, file, { log: recordingLog() }));
      expect((await Promise.all(writers)).filter(Boolean)).toHaveLength(1);
    } finally {
      await other.$disconnect();
    }
    expect(await fileLines()).toHaveLength(2);
  });

  it("anchors at start-up, then on its timer; a file it cannot write is logged, not thrown", async () => {
    await addEvent();
    const log = recordingLog();
    const anchoring = startAuditAnchoring(db.prisma, file, { everyMs: 50, log });
    await until(async () => (await readAnchorFile(file)).anchors.length === 1);
    await addEvent();
    await until(async () => (await readAnchorFile(file)).anchors.length === 2);
    await anchoring.stop();
    expect(log.lines.map((l) => l.message)).toEqual(["audit chain head anchored", "audit chain head anchored"]);

    const broken = recordingLog();
    const nowhere = startAuditAnchoring(db.prisma, join(dir, "no-such-mount", "anchors.jsonl"), { everyMs: 60_000, log: broken });
    await nowhere.stop();
    expect(broken.lines).toEqual([{ message: "audit chain head not anchored", fields: { error: expect.stringMatching(/ENOENT/) } }]);
  });
});
