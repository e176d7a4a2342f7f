// Browser URLs of a cell's images, served by the web app's proxy (apps/web/src/app/api/images).

/** The crop by its content hash; the Grad-CAM overlay by the cell (the API picks the model version). */
export function cellImageSrc(cell: { id: string; cropSha256: string }, overlay: "crop" | "gradcam"): string {
  return overlay === "gradcam" ? `/api/images/cells/${encodeURIComponent(cell.id)}/gradcam` : `/api/images/${cell.cropSha256}`;
}
