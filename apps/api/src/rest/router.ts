// REST beside GraphQL (bearer auth, same roles): uploads, images, Grad-CAM overlays, audit CSV and its signing key.
import { Router, type Request, type Response, type NextFunction } from "express";
import type { Deps } from "../context.ts";
import { buildContext, type Context } from "../context.ts";
import { AppError } from "../errors.ts";
import { describeError } from "../log.ts";
import { uploadSlidesRoute } from "../modules/slides/uploadSlides.ts";
import { getBlobRoute } from "../modules/slides/blobRoutes.ts";
import { auditCsv } from "../modules/audit/auditCsv.ts";
import { auditExportKeyRoute } from "../modules/audit/exportKeyRoute.ts";
import { cellGradcamRoute } from "../modules/cases/cellGradcam.ts";

export type RestHandler = (ctx: Context, req: Request, res: Response) => Promise<void>;

/** Runs a handler with a request context; AppErrors become JSON with the contract's code. */
export function restRoute(deps: Deps, handler: RestHandler) {
  return async (req: Request, res: Response, _next: NextFunction) => {
    try {
      const ctx = await buildContext(deps, req);
      await handler(ctx, req, res);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof AppError) {
        res.status(err.httpStatus).json({ errors: [{ message: err.message, extensions: err.extensions }] });
      } else {
        deps.log.error("internal error", describeError(err));
        res.status(500).json({ errors: [{ message: "Internal error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
      }
    }
  };
}

export function restRouter(deps: Deps): Router {
  const router = Router();
  router.post("/uploads/slides", restRoute(deps, uploadSlidesRoute));
  router.get("/blobs/:sha256", restRoute(deps, getBlobRoute));
  router.get("/audit.csv", restRoute(deps, auditCsv));
  router.get("/audit/export-key", restRoute(deps, auditExportKeyRoute));
  router.get("/cells/:cellId/gradcam", restRoute(deps, cellGradcamRoute));
  return router;
}
