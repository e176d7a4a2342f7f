// GET /cells/:cellId/gradcam (roles that read cases): the Grad-CAM overlay of a cell's crop,
// computed by the model version that made the cell's latest prediction, so the heat map explains
// the label the reviewer sees. Computed on first request and kept in memory per (cell, model
// version): a reviewer flipping G back and forth does not re-run the model.
import type { Request, Response } from "express";
import { BlobCorruptError, BlobNotFoundError } from "@rcmnet/db";
import type { Context } from "../../context.ts";
import { requireRole } from "../../auth/policy.ts";
import { CASE_READERS } from "../../auth/roles.ts";
import { FixedWindowLimiter } from "../../auth/rateLimit.ts";
import { badInput, notFound, rateLimited } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { Semaphore, slotOrBusy } from "../../lib/semaphore.ts";
import { describeError } from "../../log.ts";
import { sharedClassifierCache } from "../../jobs/model/modelRuntime.ts";

/** Model or crop present but the overlay cannot be produced (e.g. weights changed on disk). */
export class GradcamUnavailable extends Error {
  override name = "GradcamUnavailable";
}

/**
 * Bounded LRU of overlay PNGs. A 224 px overlay is ~30-80 KB, so 256 entries stay under ~20 MB
 * per API worker. In-flight computations are shared, so two tiles asking at once run the model once.
 */
export class GradcamCache {
  private readonly entries = new Map<string, Promise<Uint8Array>>();
  /** Overlays actually computed (tests check that a repeat request is served from here). */
  computed = 0;

  constructor(private readonly capacity = 256) {}

  get(key: string, compute: () => Promise<Uint8Array>): Promise<Uint8Array> {
    let entry = this.entries.get(key);
    if (entry) {
      // Refresh recency: Map iteration order is insertion order.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry;
    }
    this.computed++;
    entry = compute();
    const computing = entry;
    // A failure is not remembered (the next request tries again), unless a newer entry took the key.
    computing.catch(() => {
      if (this.entries.get(key) === computing) this.entries.delete(key);
    });
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return entry;
  }
}

export const gradcamCache = new GradcamCache();

/**
 * Model runs at once in this process, all users together: the per-user limit alone lets many
 * users (or one with many tabs' worth of cells) run the model side by side, each holding a model
 * and its gradients in memory and the CPU with them.
 */
export const gradcamSlots = new Semaphore(2);

/** The overlay PNG of a cell and the model version that explains it. */
export async function cellGradcam(
  ctx: Pick<Context, "prisma" | "blobs" | "env" | "log">,
  cellId: string,
  /** Called before the model runs (not for a cached overlay); throws to refuse. */
  chargeComputation: () => void = () => {},
): Promise<{ png: Uint8Array; modelVersionId: string }> {
  if (!isUuid(cellId)) throw badInput("Not a cell id");
  const cell = await ctx.prisma.cell.findUnique({ where: { id: cellId }, select: { id: true, cropSha256: true } });
  if (!cell) throw notFound("Cell");
  const prediction = await ctx.prisma.prediction.findFirst({
    where: { cellId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { modelVersion: { select: { id: true, artifactPath: true, artifactSha256: true, folderSha256: true, metrics: true, labels: true } } },
  });
  if (!prediction) throw notFound("Prediction for this cell");
  const version = prediction.modelVersion;
  const png = await gradcamCache.get(`${cell.id}:${version.id}`, async () => {
    let crop: Buffer;
    try {
      crop = await ctx.blobs.get(cell.cropSha256);
    } catch (err) {
      if (err instanceof BlobNotFoundError || err instanceof BlobCorruptError) {
        ctx.log.error("cell crop missing or corrupt", { cellId: cell.id, sha256: cell.cropSha256 });
        throw notFound("Cell image");
      }
      throw err;
    }
    // Outside the try below: busy is RATE_LIMITED (try again), not "cannot explain this cell".
    const release = await slotOrBusy(gradcamSlots, ctx.env.limits.gradcamWaitMs, "The server is busy computing other heat maps; try again in a moment");
    try {
      // Charged once a slot is held: a refusal for a busy server must not use up the user's quota.
      chargeComputation();
      try {
        return await (await sharedClassifierCache(ctx.env.dataDir)).use(version, (classifier) => classifier.model.explain(crop));
      } catch (err) {
        ctx.log.error("grad-cam failed", { cellId: cell.id, modelVersionId: version.id, ...describeError(err) });
        throw new GradcamUnavailable(`The model version ${version.id} could not explain this cell`);
      }
    } finally {
      release();
    }
  });
  return { png, modelVersionId: version.id };
}

/** Model runs per user, one limiter per API instance. */
const computeLimiter = FixedWindowLimiter.perInstance(60_000);

/** Each overlay not in the cache runs the model: a user walking every cell is slowed down. */
function chargeComputation(ctx: Context): void {
  const waitMs = computeLimiter(ctx.env, ctx.env.limits.gradcamPerUserPerMinute).hit(ctx.user?.id ?? "");
  if (waitMs > 0) throw rateLimited(`Too many heat maps computed; retry in ${Math.ceil(waitMs / 1000)} s`, { retryAfterSeconds: Math.ceil(waitMs / 1000) });
}

export async function cellGradcamRoute(ctx: Context, req: Request, res: Response): Promise<void> {
  requireRole(ctx, CASE_READERS);
  let result: Awaited<ReturnType<typeof cellGradcam>>;
  try {
    result = await cellGradcam(ctx, String(req.params.cellId ?? ""), () => chargeComputation(ctx));
  } catch (err) {
    if (!(err instanceof GradcamUnavailable)) throw err;
    // Foreseeable (model directory gone or changed): say so; the review page keeps the crop.
    res.status(503).json({ errors: [{ message: err.message, extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
    return;
  }
  res.setHeader("content-type", "image/png");
  res.setHeader("x-content-type-options", "nosniff");
  // Not immutable: a newer prediction (another model version) changes the overlay of the same URL.
  res.setHeader("cache-control", "private, max-age=300");
  res.setHeader("x-rcmnet-model-version", result.modelVersionId);
  res.end(Buffer.from(result.png));
}
