// Copies the audit chain's head (newest seq, its hash and time) to the anchor file outside the
// database at every tick (a heartbeat line when it has not moved), and to the log, so that a
// rewrite of the trail by the tables' owner, who can also recompute every hash and the
// signatures' anchors, is still found, and a writer that stopped too (docs/decisions.md D2). The
// verifier checks the file (@rcmnet/db auditAnchorFile.ts). It is only worth as much as the file
// is out of that owner's reach: an append-only mount, another host, the log shipper's copy.
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { dirname } from "node:path";
import { ANCHOR_FILE_STARTED, anchorFileStarted, type AuditAnchor, formatAnchorLine, parseAnchorLine, type PrismaClient } from "@rcmnet/db";
import { systemAudit } from "./systemAudit.ts";
import type { JobLogger } from "./types.ts";

/** Any number no other advisory lock in the system uses. */
const AUDIT_ANCHOR_LOCK = 72430061;
/** Enough to hold the last whole line (~180 bytes) whatever came before it. */
const TAIL_BYTES = 4096;
/** Append mode without O_CREAT: a file that is gone is never silently started again. */
const APPEND_EXISTING = constants.O_RDWR | constants.O_APPEND;
const APPEND_OR_CREATE = APPEND_EXISTING | constants.O_CREAT;

/**
 * The anchor file is gone although this database has anchored to one: it was deleted, replaced
 * by a new path, or its mount is missing (an empty folder left in its place). Not started again:
 * a new empty file would make a rewritten database verify (docs/operations.md, Restore).
 */
export class AnchorFileMissingError extends Error {
  constructor(path: string, started: { seq: bigint; path: string | null }) {
    super(
      `anchor file missing: ${path} (this database has anchored to a file since audit event #${started.seq}, last ${started.path ?? "?"}; it is not created again: restore it or mount its storage, or after a restore create a new empty file there, docs/operations.md)`,
    );
    this.name = "AnchorFileMissingError";
  }
}

async function openIfThere(path: string): Promise<Awaited<ReturnType<typeof open>> | null> {
  try {
    return await open(path, APPEND_EXISTING);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/**
 * Makes sure the trail records the file the worker writes to (ANCHOR_FILE_STARTED, `after.path`).
 * Whether the file may be created is decided from the database, not from the disk: only while
 * the trail records no anchor file at all (a fresh install, or one from before such events).
 * Later a missing file is an AnchorFileMissingError; a file an operator created for a new path (after a
 * restore) is recorded as started, with the path before it. Its own transaction, committed
 * before the anchor that covers it is written: an anchor of an event that then rolled back would
 * name a seq the next event takes with another hash. The file is created and fsynced before the
 * event commits, so a recorded start always had its file.
 */
async function ensureAnchorFileStarted(prisma: PrismaClient, path: string, log: JobLogger): Promise<void> {
  await prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_ANCHOR_LOCK}::bigint)`;
      const [any] = await tx.$queryRaw<{ one: number }[]>`SELECT 1 AS one FROM audit_event LIMIT 1`;
      if (!any) return; // nothing to anchor, so no file yet
      const started = await anchorFileStarted(tx);
      let file = await openIfThere(path);
      if (started && started.path === path) {
        await file?.close();
        if (!file) throw new AnchorFileMissingError(path, started);
        return;
      }
      if (!file) {
        if (started) throw new AnchorFileMissingError(path, started);
        // The first anchor of this database. The folder is not created: a mount that is missing
        // must not be replaced by a folder on the database's own disk.
        file = await open(path, APPEND_OR_CREATE, 0o640);
        try {
          await file.sync();
        } finally {
          await file.close();
        }
        const folder = await open(dirname(path), "r");
        try {
          await folder.sync(); // the file's name durable too
        } finally {
          await folder.close();
        }
      } else {
        await file.close();
      }
      await systemAudit(tx, {
        action: ANCHOR_FILE_STARTED,
        entityType: "AuditAnchorFile",
        entityId: path,
        before: started ? { path: started.path } : null,
        after: { path },
      });
      log.info("audit anchor file started", { path, previousPath: started?.path ?? null });
    },
    { timeout: 30_000 },
  );
}

interface FileEnd {
  /** The last complete line's anchor, if it holds one. */
  last: AuditAnchor | null;
  /** Not empty and not ending with a newline: a write torn by a crash. */
  torn: boolean;
}

async function readEnd(file: Awaited<ReturnType<typeof open>>): Promise<FileEnd> {
  const { size } = await file.stat();
  if (size === 0) return { last: null, torn: false };
  const length = Math.min(size, TAIL_BYTES);
  const { buffer, bytesRead } = await file.read(Buffer.alloc(length), 0, length, size - length);
  const tail = buffer.subarray(0, bytesRead).toString("utf8");
  const torn = !tail.endsWith("\n");
  // The part after the last newline is the torn fragment, or "" after a complete line.
  const lines = tail.split("\n").slice(0, -1);
  const line = lines.at(-1);
  return { last: line === undefined ? null : parseAnchorLine(line), torn };
}

/**
 * Whether a line for an unchanged head may be left out: the file's last line is for the same head,
 * not a clean stop's (a restarted writer says it runs again), and written less than half an
 * interval before `now`. A last line later than `now` is stale, not recent: a writer whose clock
 * ran fast wrote it, and skipping on it would leave the file without lines until this clock
 * caught up (the verifier fails one more than 5 minutes ahead: audit.ts MAX_CLOCK_AHEAD_MINUTES).
 */
export function heartbeatSkippable(last: AuditAnchor | null, head: { seq: bigint; hash: string }, now: Date, everyMinutes: number): boolean {
  if (!last || last.seq !== head.seq || last.hash !== head.hash || last.stop) return false;
  const since = now.getTime() - last.writtenAt.getTime();
  return since >= 0 && since < (everyMinutes * 60_000) / 2;
}

interface Appended {
  /** The line written, or null. */
  anchor: AuditAnchor | null;
  /** When the file's last line before it was written (its writer's clock), null for none. */
  lastWrittenAt: Date | null;
}

async function appendHead(
  prisma: PrismaClient,
  path: string,
  { log, everyMinutes, force = false, stop = false }: { log: JobLogger; everyMinutes: number; force?: boolean; stop?: boolean },
): Promise<Appended> {
  await ensureAnchorFileStarted(prisma, path, log);
  return prisma.$transaction(
    async (tx): Promise<Appended> => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_ANCHOR_LOCK}::bigint)`;
      const [head] = await tx.$queryRaw<{ seq: bigint; hash: string; at: Date }[]>`
        SELECT seq, hash, at FROM audit_event ORDER BY seq DESC LIMIT 1`;
      if (!head) return { anchor: null, lastWrittenAt: null };
      // Append mode: every write lands at the end whatever the offset, and an append-only
      // (chattr +a) file accepts it. Never created here (ensureAnchorFileStarted).
      const file = await openIfThere(path);
      if (!file) throw new AnchorFileMissingError(path, (await anchorFileStarted(tx)) ?? { seq: 0n, path: null });
      try {
        const end = await readEnd(file);
        const writtenAt = new Date();
        const lastWrittenAt = end.last?.writtenAt ?? null;
        if (lastWrittenAt && lastWrittenAt > writtenAt) {
          log.warn("audit anchor file's last line is later than this host's clock: clocks out of sync, writing anyway", {
            path,
            lastWrittenAt: lastWrittenAt.toISOString(),
            now: writtenAt.toISOString(),
            aheadMs: lastWrittenAt.getTime() - writtenAt.getTime(),
          });
        }
        // ~150 lines a day at 10 minutes however many workers anchor (docs/decisions.md D2).
        if (!force && !stop && heartbeatSkippable(end.last, head, writtenAt, everyMinutes)) return { anchor: null, lastWrittenAt };
        const anchor: AuditAnchor = { seq: head.seq, hash: head.hash, at: head.at, writtenAt, everyMinutes, ...(stop ? { stop: true } : {}) };
        const line = formatAnchorLine(anchor, { afterTornLine: end.torn });
        await file.write(end.torn ? `\n${line}` : line);
        await file.sync();
        log.info("audit chain head anchored", { auditAnchor: JSON.parse(line) });
        return { anchor, lastWrittenAt };
      } finally {
        await file.close();
      }
    },
    { timeout: 30_000 },
  );
}

/**
 * Appends the chain head to `path`, fsynced, and logs the same line; returns the anchor written,
 * or null (an empty trail, or a line for this head written less than half an interval ago). The
 * head unchanged, the line is a heartbeat (the same seq, hash and at, its own writtenAt): the
 * verifier fails once the newest line is older than two intervals and 5 minutes by its own
 * clock, whatever the database says (docs/decisions.md D2). `everyMinutes` is declared in the
 * line, and the verifier judges by it. Writers on other workers are serialised by an advisory
 * lock, and one finding a line for the same head written less than half an interval ago adds
 * none (heartbeatSkippable), so several workers add about one line an interval between them, not
 * one each; `force` writes one all the same, and `stop` too, marked as a clean stop's line
 * (`"stop": true`: with no event after it, the verifier does not take the silence that follows
 * for a failed writer). The file is
 * created only for this database's first anchor (ensureAnchorFileStarted); once the trail records
 * one, a missing file throws AnchorFileMissingError.
 */
export async function anchorAuditHead(
  prisma: PrismaClient,
  path: string,
  options: { log: JobLogger; everyMinutes: number; force?: boolean; stop?: boolean },
): Promise<AuditAnchor | null> {
  return (await appendHead(prisma, path, options)).anchor;
}

export interface AuditAnchoring {
  /** No more ticks; anchors the head once more, after a write under way, and resolves when done. */
  stop(): Promise<void>;
}

/** The longest a tick waits: a wall-clock interval that passed while the host slept is caught within it. */
export const MAX_TICK_MS = 60_000;

/**
 * Whether a tick writes: when `everyMs` has passed by the wall clock since `lastMs`, this worker's
 * last write or the file's last line, whichever is newer (null: none yet). Node's timers run on a
 * monotonic clock that stops while a laptop is suspended or a VM paused, while the wall clock the
 * verifier judges lines by moves on; so ticks come every MAX_TICK_MS at most, and the wall clock
 * decides. A `lastMs` later than `nowMs` (this clock stepped back, or a fast writer's line) is
 * stale: due.
 */
export function anchorDue(lastMs: number | null, nowMs: number, everyMs: number): boolean {
  return lastMs === null || nowMs < lastMs || nowMs - lastMs >= everyMs;
}

/**
 * Anchors after `firstAfterMs`, then once `everyMinutes` (`everyMs`: shorter in tests; the line
 * declares `everyMinutes`) have passed by the wall clock (anchorDue, checked every `tickMs`, at
 * most a minute), a heartbeat when the head has not moved. A timer of its own rather than the
 * worker's idle housekeeping: that runs only between jobs, and a training run holds its worker
 * for hours. A failed write (database or disk away) is logged and tried again at the next tick; a
 * missing file is logged as an error at every tick (`anchor file missing: …`) until it is put
 * back. A clean stop writes a last line marked `stop` (the head, or a heartbeat): the file's last
 * line then says when the worker stopped, and that it stopped cleanly; the verifier still fails
 * once an event after it is older than two intervals (@rcmnet/db anchorGraceMinutes).
 * `now`: the wall clock, given in tests.
 */
export function startAuditAnchoring(
  prisma: PrismaClient,
  path: string,
  {
    everyMinutes,
    everyMs = everyMinutes * 60_000,
    tickMs = Math.min(everyMs, MAX_TICK_MS),
    log,
    firstAfterMs = 0,
    now = Date.now,
  }: { everyMinutes: number; everyMs?: number; tickMs?: number; log: JobLogger; firstAfterMs?: number; now?: () => number },
): AuditAnchoring {
  let running: Promise<unknown> | null = null;
  /** This worker's last write, or the file's last line when another worker's was recent enough to skip on. */
  let lastMs: number | null = null;
  const anchorNow = ({ stop = false } = {}) =>
    appendHead(prisma, path, { log, everyMinutes, stop }).then(
      ({ anchor, lastWrittenAt }) => {
        if (anchor) lastMs = now();
        else if (lastWrittenAt) lastMs = lastWrittenAt.getTime();
      },
      (err: unknown) => {
        if (err instanceof AnchorFileMissingError) log.error(err.message, { path });
        else log.warn("audit chain head not anchored", { error: err instanceof Error ? err.message : String(err) });
      },
    );
  const tick = () => {
    if (running) return; // a write that outlasted a whole tick (a hung disk): not a second one
    if (!anchorDue(lastMs, now(), everyMs)) return;
    running = anchorNow().finally(() => {
      running = null;
    });
  };
  let timer: ReturnType<typeof setInterval> | null = null;
  const begin = () => {
    tick();
    timer = setInterval(tick, tickMs);
  };
  const first = firstAfterMs > 0 ? setTimeout(begin, firstAfterMs) : (begin(), null);
  return {
    async stop() {
      if (first) clearTimeout(first);
      if (timer) clearInterval(timer);
      await running;
      await anchorNow({ stop: true });
    },
  };
}
