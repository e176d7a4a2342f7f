// POST /uploads/slides?caseId=...&kind=FIELD|CROP (TECHNICIAN): smear fields or pre-cropped
// cells for a case. All files are validated first; any bad or duplicate file refuses the whole
// upload and NOTHING is stored (no blob, no row, no job). An image of the case whose analysis
// failed is no duplicate: uploading it again queues its analysis again. Blobs are written first;
// rows, analysis jobs, the case status and audit events then commit in one short transaction
// (see storeSlides). Each file is stored without its metadata, which may name the patient
// (stripMetadata.ts); its audit event keeps the received file's sha256 and size.
import { statfs } from "node:fs/promises";
import type { Request, Response } from "express";
import { sha256Hex, type Case, type Prisma, type Slide } from "@rcmnet/db";
import type { AuthUser, Context } from "../../context.ts";
import { requireRole } from "../../auth/policy.ts";
import { keepBlobs } from "../../jobs/sweepOrphanBlobs.ts";
import { badInput, conflict, notFound, rateLimited, unavailable } from "../../errors.ts";
import { Semaphore, slotOrBusy } from "../../lib/semaphore.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { isUuid } from "../../lib/pagination.ts";
import { analysisKey, enqueueSlideAnalysis } from "../../jobs/analysisJobs.ts";
import { assertNotSigned, lockCase } from "../cases/caseRules.ts";
import { parseMultipart } from "./parseMultipart.ts";
import { withoutMetadata } from "./stripMetadata.ts";
import { UPLOAD_IMAGE_LIMITS } from "./uploadLimits.ts";
import { InvalidImageError, validateImage, type ValidImage } from "./validateImage.ts";

export const UPLOAD_ROLES = ["TECHNICIAN"] as const;
export const MAX_CROP_SIDE = UPLOAD_IMAGE_LIMITS.maxCropSide;

interface Checked extends ValidImage {
  filename: string;
  originalName: string | null;
  /** What is stored and served: the file as received without its metadata (withoutMetadata). */
  bytes: Buffer;
  /** sha256 of `bytes`: the blob's name and the slide's imageSha256. */
  sha256: string;
  /** The file as received, kept only as its hash and size (the upload's audit event). */
  received: { sha256: string; byteSize: number };
}

export async function uploadSlidesRoute(ctx: Context, req: Request, res: Response): Promise<void> {
  const actor = requireRole(ctx, UPLOAD_ROLES);
  const caseId = typeof req.query.caseId === "string" ? req.query.caseId : "";
  const kind = req.query.kind === undefined ? "FIELD" : req.query.kind;
  if (kind !== "FIELD" && kind !== "CROP") throw badInput("kind must be FIELD or CROP");
  if (!isUuid(caseId)) throw notFound("Case");
  const kase = await ctx.prisma.case.findUnique({ where: { id: caseId } });
  if (!kase) throw notFound("Case");
  assertNotSigned(kase);

  await assertDiskRoom(ctx, Number(req.headers["content-length"]) || ctx.env.limits.maxUploadTotalBytes);

  // One upload at a time per user: a client sending slowly holds its slot until the request
  // times out, and must not be able to hold every slot of the process.
  if (uploadingUsers.has(actor.id)) throw rateLimited("Your previous upload is still being received; send the next one when it is done");
  uploadingUsers.add(actor.id);
  try {
    // Few uploads are read and decoded at once per process: each may hold maxUploadTotalBytes of
    // bodies plus a decode of up to maxImagePixels, and several at once could exhaust memory.
    const release = await slotOrBusy(uploadSlots, UPLOAD_WAIT_MS, "Other uploads are being processed; try again in a moment");
    try {
      await storeUpload(ctx, req, res, actor, kase, kind);
    } finally {
      release();
    }
  } finally {
    uploadingUsers.delete(actor.id);
  }
}

/** Users with an upload under way in this process. */
const uploadingUsers = new Set<string>();

/** Inside the upload's transaction, under the case lock: a FAILED slide back to PENDING, its job queued. */
async function analyseAgain(
  tx: Prisma.TransactionClient,
  actor: AuthUser,
  slide: Slide,
  upload: { filename: string; pixelSha256: string },
  accession: string,
): Promise<Slide> {
  const dedupeKey = analysisKey(slide.id);
  // The slide shows FAILED a moment before its worker records the job's failure: until then the
  // job cannot be queued again (it would stay RUNNING and the new analysis would never run).
  const [job] = await tx.$queryRaw<{ status: string }[]>`
    SELECT "status"::text AS "status" FROM "job" WHERE "dedupeKey" = ${dedupeKey} FOR UPDATE`;
  if (job && (job.status === "QUEUED" || job.status === "RUNNING")) {
    throw conflict(`The last analysis of ${upload.filename} is still finishing: upload it again in a minute; nothing was stored`, { slideId: slide.id });
  }
  // A slide stored before pixel hashes were recorded gets its own now (the guard allows only that).
  // Never a DONE slide (failedOf leaves those out; this is the backstop): its cells may be decided
  // and signed, and analysing it again would add AI calls to them or, failing, drop them.
  const reset = await tx.slide.updateManyAndReturn({
    where: { id: slide.id, analysisStatus: { not: "DONE" } },
    data: { analysisStatus: "PENDING", analysisError: null, ...(slide.pixelSha256 === null ? { pixelSha256: upload.pixelSha256 } : {}) },
  });
  const updated = reset[0];
  if (!updated) throw conflict(`${upload.filename} was already uploaded to this case and analysed; nothing was stored`, { slideId: slide.id });
  // Runnable at once, by the database's clock (the queue's): a last failure set runAfter to its
  // retry backoff, up to 5 minutes ahead.
  const requeued = await tx.$executeRaw`
    UPDATE "job" SET "status" = 'QUEUED', "attempts" = 0, "error" = NULL, "lockedBy" = NULL, "lockedAt" = NULL,
      "heartbeatAt" = NULL, "progress" = 0, "step" = NULL, "finishedAt" = NULL, "runAfter" = CURRENT_TIMESTAMP
    WHERE "dedupeKey" = ${dedupeKey} AND "status" IN ('FAILED', 'CANCELLED')`;
  if (requeued === 0) await enqueueSlideAnalysis(tx, slide.id);
  await recordAudit(tx, actor, {
    action: "slide.reanalyze",
    entityType: "Slide",
    entityId: slide.id,
    before: { analysisStatus: slide.analysisStatus, analysisError: slide.analysisError },
    after: { analysisStatus: "PENDING", accession },
    reason: "the image was uploaded again after its analysis failed",
  });
  return updated;
}

/** Refuses an upload that would leave less than minFreeDiskBytes free where the blobs are stored. */
async function assertDiskRoom(ctx: Context, uploadBytes: number): Promise<void> {
  const fs = await statfs(ctx.env.dataDir);
  const free = fs.bavail * fs.bsize;
  if (free - uploadBytes < ctx.env.limits.minFreeDiskBytes) {
    ctx.log.error("upload refused: disk nearly full", { freeBytes: free, uploadBytes });
    throw unavailable(
      `The server's disk is nearly full (${(free / 1024 ** 3).toFixed(1)} GiB free): uploads are paused until an administrator frees space. Nothing was stored.`,
    );
  }
}

/** Uploads read, decoded and stored at once by one API process. */
const uploadSlots = new Semaphore(2);
const UPLOAD_WAIT_MS = 60_000;

async function storeUpload(
  ctx: Context,
  req: Request,
  res: Response,
  actor: AuthUser,
  kase: Case,
  kind: "FIELD" | "CROP",
): Promise<void> {
  const { limits } = ctx.env;
  const upload = await parseMultipart(req, { maxBytes: limits.maxUploadBytes, maxFiles: limits.maxUploadFiles, maxTotalBytes: limits.maxUploadTotalBytes });
  if (upload.files.length === 0) throw badInput("No files: send images in the multipart field `files`");
  const stain = upload.fields.stain?.trim().slice(0, 50) || null;
  const magnification = upload.fields.magnification ? Number(upload.fields.magnification) : null;
  if (magnification !== null && (!Number.isInteger(magnification) || magnification < 1 || magnification > 2000)) {
    throw badInput("magnification must be a whole number between 1 and 2000");
  }

  const checked: Checked[] = [];
  for (const file of upload.files) {
    try {
      const image = await validateImage(file.bytes, {
        maxBytes: limits.maxUploadBytes,
        maxPixels: limits.maxImagePixels,
        ...(kind === "CROP" ? { maxSide: MAX_CROP_SIDE } : {}),
      });
      // Its metadata may name the patient (scanners write MRNs there as in file names), and every
      // case reader may fetch the stored image: only the pixels, and what decodes them, are kept.
      const bytes = withoutMetadata(file.bytes, image.format, image.orientation);
      checked.push({
        ...image,
        filename: file.filename,
        originalName: file.originalName,
        bytes,
        sha256: sha256Hex(bytes),
        received: { sha256: sha256Hex(file.bytes), byteSize: file.bytes.length },
      });
    } catch (err) {
      if (err instanceof InvalidImageError) throw badInput(`${file.filename}: ${err.message}; nothing was stored`, { filename: file.filename });
      throw err;
    }
  }
  // By pixels: the same field saved twice with other metadata is as much a duplicate as a copy.
  const seen = new Map<string, string>();
  for (const c of checked) {
    const first = seen.get(c.pixelSha256);
    if (first) throw conflict(`${c.filename} is the same image as ${first}; nothing was stored`, { sha256: c.sha256 });
    seen.set(c.pixelSha256, c.filename);
  }

  const slides = await storeSlides(ctx, actor, kase.id, kind, checked, { stain, magnification });
  res.status(201).json({
    slides: slides.map((s) => ({ id: s.id, kind: s.kind, imageSha256: s.imageSha256, width: s.width, height: s.height, mimeType: s.mimeType })),
  });
}

async function storeSlides(
  ctx: Context,
  actor: AuthUser,
  caseId: string,
  kind: "FIELD" | "CROP",
  files: Checked[],
  meta: { stain: string | null; magnification: number | null },
): Promise<Slide[]> {
  // Refused before any blob is written when no lock is needed to tell (checked again under it).
  await failedSlidesAmong(ctx.prisma, caseId, files);
  // Blobs before the transaction, not inside it: with the embedded database every connection
  // waits on an open transaction, and writing and fsyncing up to 256 MB inside one stalled every
  // other request and the workers' lease heartbeats. What a refused or failed upload leaves is an
  // unreferenced file named by its own hash, removed by the workers' orphan sweep after a day
  // (jobs/sweepOrphanBlobs.ts); keepBlobs below holds that sweep off this upload's files until it
  // commits. put() checks a copy already there against its name and replaces a damaged one: an
  // upload repairs it.
  for (const f of files) await ctx.blobs.put(f.bytes);
  return ctx.prisma.$transaction(
    async (tx) => {
      const kase = await lockCase(tx, caseId);
      assertNotSigned(kase);
      await keepBlobs(tx, ctx.blobs, files);
      const failed = await failedSlidesAmong(tx, caseId, files);
      const slides: Slide[] = [];
      for (const f of files) {
        const again = failed.get(f.sha256);
        if (again) {
          slides.push(await analyseAgain(tx, actor, again, f, kase.accession));
          continue;
        }
        const slide = await tx.slide.create({
          data: {
            caseId,
            kind,
            imageSha256: f.sha256,
            pixelSha256: f.pixelSha256,
            mimeType: f.mimeType,
            byteSize: f.bytes.length,
            width: f.width,
            height: f.height,
            originalName: f.originalName,
            stain: meta.stain,
            magnification: meta.magnification,
            uploadedById: actor.id,
          },
        });
        slides.push(slide);
        await enqueueSlideAnalysis(tx, slide.id);
        await recordAudit(tx, actor, {
          action: "slide.upload",
          entityType: "Slide",
          entityId: slide.id,
          after: {
            caseId,
            accession: kase.accession,
            kind,
            sha256: f.sha256,
            byteSize: f.bytes.length,
            // What was received, before its metadata was removed: its provenance (the bytes are not kept).
            receivedSha256: f.received.sha256,
            receivedByteSize: f.received.byteSize,
            width: f.width,
            height: f.height,
            originalName: f.originalName,
            // The technician's entries and the decoded image's identity, as stored with the slide.
            mimeType: f.mimeType,
            pixelSha256: f.pixelSha256,
            stain: meta.stain,
            magnification: meta.magnification,
          },
        });
      }
      if (kase.status !== "ANALYZING") {
        await tx.case.update({ where: { id: caseId }, data: { status: "ANALYZING" } });
        await recordAudit(tx, actor, {
          action: "case.status",
          entityType: "Case",
          entityId: caseId,
          before: { status: kase.status },
          after: { status: "ANALYZING", accession: kase.accession },
          reason: "slides uploaded",
        });
      }
      return slides;
    },
    { timeout: 60_000 },
  );
}

/**
 * The ids among `slides` whose analysis failed: marked FAILED, or whose job failed for good while
 * the row still says PENDING or RUNNING (a worker killed on the last attempt): the page shows it
 * failed before a worker's idle housekeeping marks it so. Such a slide contributes no cells.
 * A DONE slide is not failed whatever its job says: a worker that died or lost its lease after
 * markDone committed on its last attempt leaves its job FAILED by the reaper (as slideAnalysis).
 */
async function failedOf(db: Prisma.TransactionClient, slides: Slide[]): Promise<Set<string>> {
  const jobFailed = new Set(
    (
      await db.job.findMany({
        where: { dedupeKey: { in: slides.map((s) => analysisKey(s.id)) }, status: "FAILED" },
        select: { dedupeKey: true },
      })
    ).map((j) => j.dedupeKey),
  );
  return new Set(slides.filter((s) => s.analysisStatus === "FAILED" || (s.analysisStatus !== "DONE" && jobFailed.has(analysisKey(s.id)))).map((s) => s.id));
}

/**
 * Refuses a file the case already holds: the same bytes, or under other bytes the same pixels
 * (the field saved again with other metadata or compression), whose cells would be counted twice;
 * a slide whose analysis failed does not count. Returns the case's failed slides of these very
 * bytes, by the file's (stored) hash: an image whose analysis failed is analysed again when
 * uploaded again, as its error tells the technician to do: the same slide, its job queued afresh
 * (a new slide would break the one-image-once rule, and the failed one would stay).
 */
async function failedSlidesAmong(db: Prisma.TransactionClient, caseId: string, files: Checked[]): Promise<Map<string, Slide>> {
  // A slide stored before metadata was removed at upload is named by the file as received: the
  // same file sent again is the same bytes as that slide, not only the same pixels.
  const sameBytes = (s: Slide, f: Checked) => s.imageSha256 === f.sha256 || s.imageSha256 === f.received.sha256;
  const bytes = new Set(files.flatMap((f) => [f.sha256, f.received.sha256]));
  const pixels = new Set(files.map((f) => f.pixelSha256));
  const existing = await db.slide.findMany({ where: { caseId, OR: [{ imageSha256: { in: [...bytes] } }, { pixelSha256: { in: [...pixels] } }] } });
  // An image voided in this case was judged not to belong to it: the same bytes or pixels again
  // are refused in words (not analysed again, and the row could not be reused: a void is final).
  const voided = existing.find((s) => s.voidedAt !== null);
  if (voided) {
    const file = files.find((f) => sameBytes(voided, f) || f.pixelSha256 === voided.pixelSha256)!;
    throw conflict(`${file.filename} was voided in this case (${voided.voidReason}): it cannot be uploaded to it again; nothing was stored`, {
      slideId: voided.id,
      sha256: file.sha256,
    });
  }
  const failed = await failedOf(db, existing);
  const live = existing.filter((s) => !failed.has(s.id));
  const copy = live.find((s) => bytes.has(s.imageSha256));
  if (copy) {
    const dup = files.find((f) => sameBytes(copy, f))!;
    throw conflict(`${dup.filename} was already uploaded to this case; nothing was stored`, { slideId: copy.id, sha256: dup.sha256 });
  }
  const samePixels = live.find((s) => s.pixelSha256 !== null && pixels.has(s.pixelSha256));
  if (samePixels) {
    const file = files.find((f) => f.pixelSha256 === samePixels.pixelSha256)!;
    throw conflict(
      `${file.filename} shows the same pixels as an image already uploaded to this case (saved again with other metadata or compression): its cells would be counted twice; nothing was stored`,
      { slideId: samePixels.id, sha256: file.sha256 },
    );
  }
  // By the file's stored name, as storeSlides looks them up.
  return new Map(files.flatMap((f) => existing.filter((s) => sameBytes(s, f)).map((s) => [f.sha256, s] as const)));
}
