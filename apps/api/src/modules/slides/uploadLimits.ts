/**
 * The per-image upload limits, shared with the dashboard's upload page (`@rcmnet/api/uploadLimits`):
 * the API enforces them by content, the page checks them before a byte is sent. One source, so
 * the page never refuses a file the API takes, nor sends one the API refuses. No imports: the page
 * bundles this file into the browser.
 */
export const UPLOAD_IMAGE_LIMITS = {
  /** Bytes per uploaded file. */
  maxBytes: 25 * 1024 * 1024,
  /** Decoded pixels per image: refuses decompression bombs before decoding. */
  maxPixels: 40_000_000,
  /** Pre-cropped cells are small; a larger "crop" is probably a field sent with the wrong kind. */
  maxCropSide: 1024,
} as const;
