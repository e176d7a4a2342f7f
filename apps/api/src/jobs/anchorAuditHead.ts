// Copies the audit chain's head (newest seq, its hash and time) to the anchor file outside the
// database, and to the log, so that a rewrite of the trail by the tables' owner, who can also
// recompute every hash and the signatures' anchors, is still found (docs/decisions.md D2). The
// verifier checks the file (@rcmnet/db auditAnchorFile.ts). It is only worth as much as the file
// is out of that owner's reach: an append-only mount, another host, the log shipper's copy.
import { open } from "node:fs/promises";
import { type AuditAnchor, formatAnchorLine, parseAnchorLine, type PrismaClient } from "@rcmnet/db";
import type { JobLogger } from "./types.ts";

/** Any number no other advisory lock in the system uses. */
const AUDIT_ANCHOR_LOCK = 72430061;
/** Enough to hold the last whole line (~190 bytes) whatever came before it. */
const TAIL_BYTES = 4096;

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
 * Appends the chain head to `path` if it is not the last anchor there, fsynced, and logs the same
 * line; returns the anchor written, or null (an empty trail, or an unchanged head). Writers on
 * other workers are serialised by an advisory lock, so two workers add one line, not two.
 */
export async function anchorAuditHead(prisma: PrismaClient, path: string, { log }: { log: JobLogger }): Promise<AuditAnchor | null> {
  return prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_ANCHOR_LOCK}::bigint)`;
      const [head] = await tx.$queryRaw<{ seq: bigint; hash: string; at: Date }[]>`
        SELECT seq, hash, at FROM audit_event ORDER BY seq DESC LIMIT 1`;
      if (!head) return null;
      // Append mode: every write lands at the end whatever the offset, and an append-only
      // (chattr +a) file accepts it. The folder is not created: a mount that is missing must not
      // be replaced by a folder on the database's own disk.
      const file = await open(path, "a+", 0o640);
      try {
        const end = await readEnd(file);
        if (end.last && end.last.seq === head.seq && end.last.hash === head.hash) return null;
        const anchor: AuditAnchor = { seq: head.seq, hash: head.hash, at: head.at, writtenAt: new Date() };
        const line = formatAnchorLine(anchor, { afterTornLine: end.torn });
        await file.write(end.torn ? `\n${line}` : line);
        await file.sync();
        log.info("audit chain head anchored", { auditAnchor: JSON.parse(line) });
        return anchor;
      } finally {
        await file.close();
      }
    },
    { timeout: 30_000 },
  );
}

export interface AuditAnchoring {
  /** No more ticks; resolves once a write under way has finished. */
  stop(): Promise<void>;
}

/**
 * Anchors at once, then every `everyMs`. A timer of its own rather than the worker's idle
 * housekeeping: that runs only between jobs, and a training run holds its worker for hours.
 * A failed write (database or disk away) is logged and tried again at the next tick.
 */
export function startAuditAnchoring(prisma: PrismaClient, path: string, { everyMs, log }: { everyMs: number; log: JobLogger }): AuditAnchoring {
  let running: Promise<unknown> | null = null;
  const tick = () => {
    if (running) return; // a write that outlasted a whole interval (a hung disk): not a second one
    running = anchorAuditHead(prisma, path, { log })
      .catch((err: unknown) => log.warn("audit chain head not anchored", { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        running = null;
      });
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
