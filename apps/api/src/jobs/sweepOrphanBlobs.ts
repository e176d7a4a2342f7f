// Image files no record refers to: what a refused or failed upload left (its blobs are written
// before its transaction, which may then refuse it), crops of an analysis that failed before its
// cells were stored, and temporary files of a writer that crashed. They hold patient images
// outside any record, so they are removed once they are older than a grace period.
//
// The race it must not lose: a writer that found the blob already there (put() returns without
// writing) and is about to commit a row pointing at it. Writers therefore take a shared advisory
// lock inside the transaction that records the blob and check it is still there (putting it back
// if not: they hold the bytes); the sweep takes the lock exclusively while it checks references
// and removes files. Either the writer's row is committed before the sweep looks, or the writer
// sees the file gone and writes it again.
import type { BlobStore, Prisma, PrismaClient } from "@rcmnet/db";
import type { JobLogger } from "./types.ts";

/** Any number no other advisory lock in the system uses. */
const BLOB_SWEEP_LOCK = 72430051;
export const ORPHAN_BLOB_GRACE_MS = 24 * 3600 * 1000;
const BATCH = 500;
const SWEEP_TX_TIMEOUT_MS = 60_000;

/**
 * Inside the transaction that records these blobs: the sweep cannot remove them until it commits,
 * and one removed before it started is written again.
 */
export async function keepBlobs(tx: Prisma.TransactionClient, blobs: BlobStore, items: { sha256: string; bytes: Uint8Array }[]): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${BLOB_SWEEP_LOCK}::bigint)`;
  for (const item of items) if (!(await blobs.has(item.sha256))) await blobs.put(item.bytes);
}

/** The blobs among `entries` that a slide, cell or dataset item refers to (indexed look-ups). */
async function referencedAmong(db: Pick<Prisma.TransactionClient, "$queryRaw">, entries: { sha256: string | null }[]): Promise<Set<string>> {
  const shas = entries.flatMap((c) => (c.sha256 ? [c.sha256] : []));
  if (!shas.length) return new Set();
  const rows = await db.$queryRaw<{ sha: string }[]>`
    SELECT "imageSha256" AS sha FROM "slide" WHERE "imageSha256" = ANY(${shas}::text[])
    UNION SELECT "cropSha256" FROM "cell" WHERE "cropSha256" = ANY(${shas}::text[])
    UNION SELECT "cropSha256" FROM "dataset_item" WHERE "cropSha256" = ANY(${shas}::text[])`;
  return new Set(rows.map((r) => r.sha));
}

/** Removes files older than `graceMs` that no slide, cell or dataset item refers to; returns how many. */
export async function sweepOrphanBlobs(prisma: PrismaClient, blobs: BlobStore, { graceMs = ORPHAN_BLOB_GRACE_MS, log }: { graceMs?: number; log?: JobLogger } = {}): Promise<number> {
  const cutoff = Date.now() - graceMs;
  let candidates: { sha256: string | null; path: string }[] = [];
  let removed = 0;
  const sweep = async () => {
    const batch = candidates;
    candidates = [];
    // Nearly every old blob is a stored image some record refers to: the few orphans are found
    // first without the lock, which uploads and analyses wait on, and only they are locked for.
    const first = await referencedAmong(prisma, batch);
    const orphans = batch.filter((c) => !(c.sha256 && first.has(c.sha256)));
    if (!orphans.length) return;
    removed += await prisma.$transaction(
      async (tx) => {
        const started = Date.now();
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BLOB_SWEEP_LOCK}::bigint)`;
        const referenced = await referencedAmong(tx, orphans); // recorded since the first look
        let n = 0;
        for (const c of orphans) {
          if (c.sha256 && referenced.has(c.sha256)) continue;
          // Stops well before the transaction's timeout, which would release the lock while a
          // removal is under way (the rest wait for the next sweep); the query throws if it has
          // ended all the same.
          if (Date.now() - started > SWEEP_TX_TIMEOUT_MS - 20_000) break;
          await tx.$executeRaw`SELECT 1`;
          await blobs.remove(c.path);
          n++;
        }
        return n;
      },
      { timeout: SWEEP_TX_TIMEOUT_MS },
    );
  };
  for await (const entry of blobs.entries()) {
    if (entry.mtimeMs >= cutoff) continue;
    candidates.push(entry);
    if (candidates.length >= BATCH) await sweep();
  }
  if (candidates.length) await sweep();
  if (removed) log?.info("orphan image files removed", { count: removed });
  return removed;
}
