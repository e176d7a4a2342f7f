// What the upload page checks and decides without React: the API's upload limits checked before a
// byte is sent, how long an upload may take, and what an upload's answer means for the technician.
import { UPLOAD_IMAGE_LIMITS } from "@rcmnet/api/uploadLimits";
import { defaultMessage, fromGraphQLErrors } from "@/lib/errors";

/**
 * The API's own limits, imported: the API checks them again, by content; checking here only
 * spares the technician sending a file that would be refused.
 */
export const UPLOAD_LIMITS = UPLOAD_IMAGE_LIMITS;

export type ImageKind = "FIELD" | "CROP";

/** The part of a File the checks read (a plain object in tests). */
export interface FileLike {
  name: string;
  type: string;
  size: number;
}

const MIB = 1024 * 1024;
// image/jpg and image/pjpeg: what some Windows set-ups report for a .jpg.
const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/jpg", "image/pjpeg"]);
const IMAGE_EXTENSIONS = new Set(["jpg", "jpeg", "jpe", "jfif", "png"]);
/** Types that say nothing of the content: the extension decides then, and the API by content. */
const UNKNOWN_TYPES = new Set(["", "application/octet-stream"]);

/** The drop zone's statement of the limits, in the words the refusals use. */
export function limitsText(): string {
  return `JPEG or PNG, up to ${UPLOAD_LIMITS.maxBytes / MIB} MB and ${UPLOAD_LIMITS.maxPixels / 1_000_000} megapixels per image; single-cell crops at most ${UPLOAD_LIMITS.maxCropSide} pixels per side.`;
}

/** Megabytes as file managers show them, rounded up: 25 MB and one byte must not read "25.0 MB". */
export function megabytes(bytes: number): string {
  return `${(Math.ceil((bytes / MIB) * 10) / 10).toFixed(1)} MB`;
}

function extensionOf(name: string): string | null {
  const dot = name.lastIndexOf(".");
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : null;
}

/**
 * Why a file would be refused by the API, said so that the technician can fix it, or null when
 * it may be sent. Drag-and-drop bypasses the picker's filter, so a 300 MB TIFF would otherwise be
 * sent whole before the API refuses it. Pixel sizes are left to the API (reading them here means
 * decoding the image).
 */
export function precheck(file: FileLike, kind: ImageKind): string | null {
  const type = file.type.toLowerCase();
  const extension = extensionOf(file.name);
  const wrongType = !UNKNOWN_TYPES.has(type) && !IMAGE_TYPES.has(type);
  const wrongExtension = extension !== null && !IMAGE_EXTENSIONS.has(extension);
  if (wrongType || wrongExtension) {
    const what = wrongType ? type : `.${extension} file`;
    return `${file.name} is not a JPEG or PNG image (${what}): export it as JPEG or PNG and upload that file. Nothing was sent.`;
  }
  if (file.size === 0) return `${file.name} is empty (0 bytes): export or copy it again. Nothing was sent.`;
  if (file.size > UPLOAD_LIMITS.maxBytes) {
    const fix =
      kind === "CROP"
        ? "A single-cell crop is far smaller: is this a whole field? Choose “Smear fields”, or export the crop as JPEG."
        : "Export it as JPEG (quality 90 is plenty) or at a lower resolution, and upload that file.";
    return `${file.name} is ${megabytes(file.size)}; the limit is ${UPLOAD_LIMITS.maxBytes / MIB} MB per image. ${fix} Nothing was sent.`;
  }
  return null;
}

/**
 * How long one upload may take before it is stopped: generous (a slow hospital link, and the
 * API may first wait up to a minute for an upload slot), but a stalled request must not hold the
 * queue for ever. Two minutes, or one minute plus the file at 100 kB/s if longer.
 */
export function uploadTimeoutMs(bytes: number): number {
  return Math.max(2 * 60_000, 60_000 + Math.ceil(bytes / 100_000) * 1000);
}

export function timeoutMessage(timeoutMs: number): string {
  const minutes = Math.round(timeoutMs / 60_000);
  return `No answer from the server within ${minutes} minutes, so the upload was stopped. Check the connection and press Retry (if the image did arrive, Retry says it is already uploaded).`;
}

export type UploadOutcome = { ok: true; message: string } | { ok: false; message: string; retryable: boolean };

/** Answers meaning "not now" rather than "not this file": the same file may be sent again. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const RETRYABLE_CODES = new Set(["RATE_LIMITED", "UNAVAILABLE"]);

/** What the API's answer to one upload means: stored, refused for good, or worth a Retry. */
export function uploadOutcome(status: number, responseText: string): UploadOutcome {
  let body: { errors?: { message?: string; extensions?: { code?: string } }[] } | null = null;
  try {
    body = JSON.parse(responseText);
  } catch {
    body = null;
  }
  const errors = body?.errors ?? [];
  if (status >= 200 && status < 300 && errors.length === 0) return { ok: true, message: "Uploaded; analysis queued." };
  const code = errors[0]?.extensions?.code;
  const retryable = RETRYABLE_STATUS.has(status) || (typeof code === "string" && RETRYABLE_CODES.has(code));
  // The dashboard's gateway answers 502/504 when the API is unreachable: a network failure for the technician.
  const message =
    status === 502 || status === 504
      ? defaultMessage("NETWORK")
      : errors.length
        ? fromGraphQLErrors(errors, status).message
        : `Upload refused (HTTP ${status}).`;
  return { ok: false, message, retryable };
}

/** A message about a file, led by its name unless it already is (the API's refusals name the file). */
export function aboutFile(name: string, message: string): string {
  return message.startsWith(name) ? message : `${name}: ${message}`;
}

export type FileStatus = "queued" | "uploading" | "done" | "rejected" | "failed" | "cancelled";

/** Still to be sent, or being sent: what leaving the page would drop. */
export function isPending(state: FileStatus): boolean {
  return state === "queued" || state === "uploading";
}

/**
 * One line for the page's polite live region: screen readers hear each refusal and completion as
 * the counts change, once, rather than an alert per refused file interrupting each other.
 */
export function uploadSummary(states: readonly FileStatus[]): string {
  const count = (...which: FileStatus[]) => states.filter((s) => which.includes(s)).length;
  const images = (n: number) => `${n} image${n === 1 ? "" : "s"}`;
  const parts: string[] = [];
  const pending = count("queued", "uploading");
  if (pending) parts.push(`${images(pending)} still to send`);
  if (count("done")) parts.push(`${images(count("done"))} uploaded`);
  if (count("rejected")) parts.push(`${images(count("rejected"))} refused (see why in the list)`);
  if (count("failed")) parts.push(`${images(count("failed"))} not sent: press Retry`);
  if (count("cancelled")) parts.push(`${images(count("cancelled"))} cancelled`);
  return parts.length ? `${parts.join("; ")}.` : "";
}
