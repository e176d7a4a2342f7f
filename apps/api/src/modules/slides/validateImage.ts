// Upload validation by content, never by file name or declared type: magic bytes, the header's
// dimensions against a pixel budget BEFORE decoding (a 50,000 x 50,000 PNG of a few KB is a
// decompression bomb), then a full decode that fails on truncated or corrupt data.
import { createHash } from "node:crypto";
import sharp, { type OutputInfo, type Sharp } from "sharp";

export type ImageFormat = "jpeg" | "png";

export interface ValidImage {
  format: ImageFormat;
  mimeType: string;
  width: number;
  height: number;
  /** EXIF orientation as the decoder reads it (1: shown as stored); kept when metadata is removed. */
  orientation: number;
  /** sha256 of the pixels as the model sees them (pixelSha256Of): the same field under other bytes. */
  pixelSha256: string;
}

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
  /** Longest side allowed (pre-cropped cells are small). */
  maxSide?: number;
}

export class InvalidImageError extends Error {}

/** A file whose structure cannot be walked to remove its metadata (stripMetadata.ts): refused, never stored as received. */
export function unreadableStructure(why: string): InvalidImageError {
  return new InvalidImageError(`the file's structure cannot be read to remove its metadata (${why})`);
}

export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return "png";
  return null;
}

export async function validateImage(bytes: Buffer, limits: ImageLimits): Promise<ValidImage> {
  if (bytes.length === 0) throw new InvalidImageError("the file is empty");
  if (bytes.length > limits.maxBytes) throw new InvalidImageError(`the file is larger than ${limits.maxBytes} bytes`);
  const format = sniffFormat(bytes);
  if (!format) throw new InvalidImageError("not a JPEG or PNG image (checked by content)");
  let width: number, height: number, orientation: number;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    if (meta.format !== format || !meta.width || !meta.height) throw new Error("format mismatch");
    // As displayed: the worker detects cells on the image turned by its EXIF orientation (a phone
    // on an eyepiece writes 6 or 8), and browsers show it turned, so the stored size must be too.
    width = meta.autoOrient?.width ?? meta.width;
    height = meta.autoOrient?.height ?? meta.height;
    orientation = meta.orientation ?? 1;
  } catch {
    throw new InvalidImageError("the image header cannot be read");
  }
  if (width * height > limits.maxPixels) {
    throw new InvalidImageError(`the image is ${width}x${height} pixels, more than the ${limits.maxPixels} allowed`);
  }
  if (limits.maxSide && Math.max(width, height) > limits.maxSide) {
    throw new InvalidImageError(`the image is ${width}x${height}; a cell crop may be at most ${limits.maxSide} pixels per side`);
  }
  // A cut-off JPEG/PNG is refused instead of decoding to a grey tail. For JPEG every libjpeg
  // warning is refused too: damage inside the scan (a stray end marker, a bad Huffman code) is only
  // a warning there, and decodes to garbled or grey blocks the model would classify. PNG stays at
  // "truncated": libpng warns about harmless things (a known-incorrect sRGB profile) in common files.
  const decode = (failOn: "warning" | "truncated") => asTheModelSeesIt(sharp(bytes, { limitInputPixels: limits.maxPixels, failOn, sequentialRead: true }));
  let pixels: Awaited<ReturnType<typeof decode>> | null = null;
  try {
    pixels = await decode(format === "jpeg" ? "warning" : "truncated");
  } catch (err) {
    const warning = err instanceof Error ? /Corrupt JPEG data: [^\n]{1,120}/.exec(err.message)?.[0] : undefined;
    // Stray bytes between markers (padding some cameras write before a segment or the end
    // marker) harm no pixel: libjpeg skips them. Such a file is accepted if it decodes whole.
    const harmless = warning !== undefined && /extraneous bytes before marker/i.test(warning);
    pixels = harmless ? await decode("truncated").catch(() => null) : null;
    if (!pixels) {
      throw new InvalidImageError(warning ? `the image data is damaged (${warning}): export it again` : "the image data is truncated or corrupt");
    }
  }
  return { format, mimeType: format === "jpeg" ? "image/jpeg" : "image/png", width, height, orientation, pixelSha256: hashPixels(pixels) };
}

/**
 * The pixels as the model sees them: transparency flattened onto white, sRGB, 8 bits, three
 * channels (packages/model's image decoding). The same field saved again with other metadata, an
 * embedded sRGB profile, an alpha channel or another lossless compression decodes to these same
 * pixels; a re-encoded JPEG does not.
 */
function asTheModelSeesIt(image: Sharp) {
  return image.flatten({ background: "#ffffff" }).toColourspace("srgb").removeAlpha().raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
}

function hashPixels({ data, info }: { data: Buffer; info: OutputInfo }): string {
  return createHash("sha256").update(`${info.width}x${info.height}x${info.channels}:`).update(data).digest("hex");
}

/** sha256 of an already validated image's pixels as the model sees them (for slides stored outside an upload). */
export async function pixelSha256Of(bytes: Uint8Array): Promise<string> {
  return hashPixels(await asTheModelSeesIt(sharp(bytes)));
}
