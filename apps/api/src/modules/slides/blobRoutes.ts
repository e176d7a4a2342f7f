// GET /blobs/:sha256 (roles that read cases): image bytes, streamed and verified against their hash.
import type { Request, Response } from "express";
import { BlobCorruptError, BlobNotFoundError } from "@rcmnet/db";
import type { Context } from "../../context.ts";
import { requireRole } from "../../auth/policy.ts";
import { CASE_READERS } from "../../auth/roles.ts";
import { notFound } from "../../errors.ts";
import { KeyedSemaphore, Semaphore, slotOrBusy } from "../../lib/semaphore.ts";
import { writeOrWait } from "../../lib/writeStream.ts";
import { sniffFormat } from "./validateImage.ts";

/**
 * Images read at once per process. Each is streamed in 64 KiB chunks (not held whole), but holds
 * a file and a hash until its client has read it, and a request rate limit does not bound how
 * many run in parallel. A crop takes well under a millisecond, so a review page's many images
 * queue briefly.
 */
export const blobReadSlots = new Semaphore(8);
/**
 * Of those, at most 3 per user at once (a review page's parallel requests queue briefly): one
 * user who opens reads and never takes the bytes cannot hold every slot, and a client that
 * stops reading is cut off after writeOrWait's stall time anyway.
 */
export const blobReadSlotsPerUser = new KeyedSemaphore(3);
const BLOB_WAIT_MS = 30_000;

export async function getBlobRoute(ctx: Context, req: Request, res: Response): Promise<void> {
  const reader = requireRole(ctx, CASE_READERS);
  const sha = String(req.params.sha256 ?? "");
  if (!/^[0-9a-f]{64}$/.test(sha)) throw notFound("Image");
  // The dashboard asks the browser to revalidate every image (a shared workstation must not show
  // one user's images to the next from its cache): a copy it holds costs a role check and a stat.
  const etag = `"${sha}"`;
  res.setHeader("etag", etag);
  if (req.headers["if-none-match"] === etag && (await ctx.blobs.has(sha))) {
    res.status(304).end();
    return;
  }
  const releaseMine = await slotOrBusy(blobReadSlotsPerUser.for(reader.id), BLOB_WAIT_MS, "Too many of your images are being read at once; try again in a moment");
  const releaseShared = await slotOrBusy(blobReadSlots, BLOB_WAIT_MS, "The server is busy reading other images; try again in a moment").catch((err: unknown) => {
    releaseMine();
    throw err;
  });
  const release = () => {
    releaseShared();
    releaseMine();
  };
  // Held until the response is sent or its client has gone (a client gone during the read
  // fired "close" already).
  if (res.destroyed) {
    release();
    return;
  }
  res.once("close", release);
  const corrupt = () => ctx.log.error("blob corrupt on disk", { sha256: sha });
  let blob: Awaited<ReturnType<typeof ctx.blobs.open>>;
  let first: IteratorResult<Buffer>;
  try {
    blob = await ctx.blobs.open(sha);
    // The first chunk names the format; an image within one chunk (every crop) is verified whole
    // before it: a damaged one is answered 404 like a missing one.
    first = await blob.chunks.next();
  } catch (err) {
    if (err instanceof BlobNotFoundError) throw notFound("Image");
    if (err instanceof BlobCorruptError) {
      corrupt();
      throw notFound("Image");
    }
    throw err;
  }
  const head = first.done ? Buffer.alloc(0) : first.value;
  const format = sniffFormat(head);
  res.setHeader("content-type", format === "jpeg" ? "image/jpeg" : format === "png" ? "image/png" : "application/octet-stream");
  res.setHeader("content-length", String(blob.size));
  res.setHeader("x-content-type-options", "nosniff");
  // Content-addressed: the bytes behind a name never change.
  res.setHeader("cache-control", "private, max-age=31536000, immutable");
  try {
    // A damaged larger image fails before its last chunk is sent: the response is cut short
    // (the browser sees a failed load, never a whole wrong image). A client gone stops the read.
    if (await writeOrWait(res, head)) {
      for await (const chunk of blob.chunks) if (!(await writeOrWait(res, chunk))) break;
    } else {
      await blob.chunks.return(undefined);
    }
  } catch (err) {
    if (!(err instanceof BlobCorruptError)) throw err;
    corrupt();
    res.destroy();
    return;
  }
  res.end();
}
