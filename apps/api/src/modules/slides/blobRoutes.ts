// GET /blobs/:sha256 (roles that read cases): image bytes, verified against their hash on read.
import type { Request, Response } from "express";
import { BlobCorruptError, BlobNotFoundError } from "@rcmnet/db";
import type { Context } from "../../context.ts";
import { requireRole } from "../../auth/policy.ts";
import { CASE_READERS } from "../../auth/roles.ts";
import { notFound } from "../../errors.ts";
import { Semaphore, slotOrBusy } from "../../lib/semaphore.ts";
import { sniffFormat } from "./validateImage.ts";

/**
 * Images read and hashed at once per process: each is held whole in memory (a field image up
 * to maxUploadBytes), and a request rate limit does not bound how many run in parallel. A crop
 * takes well under a millisecond, so a review page's many images queue briefly.
 */
export const blobReadSlots = new Semaphore(8);
const BLOB_WAIT_MS = 30_000;

export async function getBlobRoute(ctx: Context, req: Request, res: Response): Promise<void> {
  requireRole(ctx, CASE_READERS);
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
  const release = await slotOrBusy(blobReadSlots, BLOB_WAIT_MS, "The server is busy reading other images; try again in a moment");
  let bytes: Buffer;
  try {
    bytes = await ctx.blobs.get(sha);
  } catch (err) {
    release();
    if (err instanceof BlobNotFoundError) throw notFound("Image");
    if (err instanceof BlobCorruptError) {
      ctx.log.error("blob corrupt on disk", { sha256: sha });
      throw notFound("Image");
    }
    throw err;
  }
  // Held until the response is sent or its client has gone: a slow reader keeps the bytes in
  // this process until then. A client gone during the read fired "close" already.
  if (res.destroyed) {
    release();
    return;
  }
  res.once("close", release);
  const format = sniffFormat(bytes);
  res.setHeader("content-type", format === "jpeg" ? "image/jpeg" : format === "png" ? "image/png" : "application/octet-stream");
  res.setHeader("x-content-type-options", "nosniff");
  // Content-addressed: the bytes behind a name never change.
  res.setHeader("cache-control", "private, max-age=31536000, immutable");
  res.end(bytes);
}
