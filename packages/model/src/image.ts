/**
 * Image decoding and validation with sharp (libvips). Every failure becomes an
 * `ImageDecodeError` that names the file and says what is wrong, so an upload or a
 * dataset with one bad file is answered clearly instead of crashing a worker.
 */
import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';

export interface RgbImage {
  /** Interleaved 8-bit RGB, row-major. */
  data: Uint8Array;
  width: number;
  height: number;
}

export type ImageErrorCode = 'EMPTY' | 'TOO_LARGE' | 'TOO_MANY_PIXELS' | 'NOT_AN_IMAGE' | 'UNSUPPORTED_FORMAT' | 'CORRUPT' | 'UNREADABLE';

export class ImageDecodeError extends Error {
  constructor(
    readonly code: ImageErrorCode,
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'ImageDecodeError';
  }
}

export interface ImageLimits {
  /** Largest accepted encoded size (default 25 MB: a 4K microscope field as PNG is ~20 MB). */
  maxBytes?: number;
  /** Largest accepted width x height (default 40 MP); guards against decompression bombs. */
  maxPixels?: number;
  /** Name used in error messages when the input is a buffer (e.g. the upload's filename). */
  name?: string;
}

export const DEFAULT_LIMITS = { maxBytes: 25 * 1024 * 1024, maxPixels: 40_000_000 };
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif']);

export type ImageInput = Buffer | Uint8Array | string | RgbImage;

export function isRgbImage(x: unknown): x is RgbImage {
  return typeof x === 'object' && x !== null && 'data' in x && 'width' in x && 'height' in x && !(x instanceof Uint8Array);
}

async function readBytes(input: Buffer | Uint8Array | string, limits: ImageLimits): Promise<{ bytes: Buffer; name: string }> {
  const maxBytes = limits.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  if (typeof input === 'string') {
    const unreadable = (e: unknown) => new ImageDecodeError('UNREADABLE', input, `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    let size: number;
    try {
      const st = await stat(input);
      if (!st.isFile()) throw new ImageDecodeError('UNREADABLE', input, 'not a file (a folder?)');
      size = st.size;
    } catch (e) {
      throw e instanceof ImageDecodeError ? e : unreadable(e);
    }
    if (size > maxBytes) throw new ImageDecodeError('TOO_LARGE', input, `file is ${size} bytes, limit is ${maxBytes}`);
    // A file that cannot be opened (permissions) is this image's error, not the whole batch's.
    const bytes = await readFile(input).catch((e: unknown) => {
      throw unreadable(e);
    });
    return { bytes, name: limits.name ?? input };
  }
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return { bytes, name: limits.name ?? '<buffer>' };
}

export interface ImageInfo {
  format: string;
  width: number;
  height: number;
}

/** Checks size, format and pixel count without decoding pixels. */
export async function validateImage(input: Buffer | Uint8Array | string, limits: ImageLimits = {}): Promise<ImageInfo> {
  const { bytes, name } = await readBytes(input, limits);
  return validateBytes(bytes, name, limits);
}

async function validateBytes(bytes: Buffer, name: string, limits: ImageLimits): Promise<ImageInfo> {
  const maxBytes = limits.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  const maxPixels = limits.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  if (bytes.length === 0) throw new ImageDecodeError('EMPTY', name, 'file is empty (0 bytes)');
  if (bytes.length > maxBytes) throw new ImageDecodeError('TOO_LARGE', name, `file is ${bytes.length} bytes, limit is ${maxBytes}`);
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new ImageDecodeError('NOT_AN_IMAGE', name, 'not a recognised image (expected JPEG, PNG, WebP or TIFF)');
  }
  if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) {
    throw new ImageDecodeError('UNSUPPORTED_FORMAT', name, `format "${meta.format ?? 'unknown'}" is not accepted (JPEG, PNG, WebP, TIFF, GIF)`);
  }
  // As decoded: decodeImage turns the image by its EXIF orientation.
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  if (width <= 0 || height <= 0) throw new ImageDecodeError('CORRUPT', name, 'image header has no dimensions');
  if (width * height > maxPixels) {
    throw new ImageDecodeError('TOO_MANY_PIXELS', name, `${width}x${height} = ${width * height} pixels exceeds the limit of ${maxPixels}`);
  }
  return { format: meta.format, width, height };
}

/**
 * Decodes to 8-bit sRGB (grey expanded). Transparent pixels are laid on white, the colour of a
 * smear's bright background: dropping alpha would show whatever colour the transparent pixels
 * hold, often black, which reads as a stained blob.
 */
export async function decodeImage(input: ImageInput, limits: ImageLimits = {}): Promise<RgbImage> {
  if (isRgbImage(input)) return input;
  const { bytes, name } = await readBytes(input, limits);
  const info = await validateBytes(bytes, name, limits);
  try {
    const { data, info: out } = await sharp(bytes, { failOn: 'truncated', limitInputPixels: info.width * info.height })
      .rotate() // honour EXIF orientation
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (out.channels !== 3) throw new Error(`decoded to ${out.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: out.width, height: out.height };
  } catch (e) {
    throw new ImageDecodeError('CORRUPT', name, `cannot decode ${info.format} data (${(e as Error).message.split('\n')[0]})`);
  }
}

/** Resizes (cover + centre crop) to size x size RGB. */
export async function resizeSquare(img: RgbImage, size: number): Promise<RgbImage> {
  if (img.width === size && img.height === size) return img;
  const data = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .resize(size, size, { fit: 'cover', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: size, height: size };
}

export async function encodePng(img: RgbImage): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .png()
    .toBuffer();
}

export async function encodeJpeg(img: RgbImage, quality = 92): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .jpeg({ quality })
    .toBuffer();
}

/** Crops a rectangle (clamped to the image) into a new RGB image. */
export function cropRgb(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.ceil(x + w));
  const y1 = Math.min(img.height, Math.ceil(y + h));
  const cw = Math.max(1, x1 - x0);
  const ch = Math.max(1, y1 - y0);
  const out = new Uint8Array(cw * ch * 3);
  for (let r = 0; r < ch; r++) {
    const src = ((y0 + r) * img.width + x0) * 3;
    out.set(img.data.subarray(src, src + cw * 3), r * cw * 3);
  }
  return { data: out, width: cw, height: ch };
}
