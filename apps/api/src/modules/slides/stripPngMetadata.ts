// A PNG without its metadata (see stripMetadata.ts): its chunks walked, those the decoder reads to
// produce pixels copied byte for byte (CRC included), the others left out.
import { crc32 } from "node:zlib";
import { unreadableStructure } from "./validateImage.ts";

const SIGNATURE_BYTES = 8;

/**
 * The chunks kept: the critical ones, and the ancillary ones that change the decoded pixels or
 * their colour (transparency, gamma, chromaticities, sRGB intent, ICC profile, coding-independent
 * code points, HDR mastering and light levels, significant bits, background) or carry no text
 * (physical pixel size). Dropped, among others: tEXt, zTXt, iTXt (XMP too), eXIf, tIME, and
 * private or unknown ones (any may hold text), APNG's frames (a decoder shows the default image).
 */
const DECODING_CHUNKS = new Set(["IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "cICP", "mDCv", "cLLi", "sBIT", "bKGD", "pHYs"]);
/** PNG's largest chunk length (2^31 - 1). */
const MAX_CHUNK_LENGTH = 0x7fffffff;

/**
 * `png` with only the chunks the decoder reads (DECODING_CHUNKS), up to IEND (what follows it is
 * left out). `exif` (a TIFF block), if any, is written as the only eXIf chunk, before the first IDAT.
 */
export function pngWithoutMetadata(png: Buffer, exif: Buffer | null): Buffer {
  const out: Buffer[] = [png.subarray(0, SIGNATURE_BYTES)];
  let pendingExif = exif;
  let at = SIGNATURE_BYTES;
  for (;;) {
    if (at + 12 > png.length) throw unreadableStructure("it ends before its PNG end chunk");
    const length = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) throw unreadableStructure("a PNG chunk has no valid type");
    const end = at + 12 + length;
    if (length > MAX_CHUNK_LENGTH || end > png.length) throw unreadableStructure(`its ${type} chunk runs past the end of the file`);
    if (type === "IDAT" && pendingExif) {
      out.push(chunk("eXIf", pendingExif));
      pendingExif = null;
    }
    if (DECODING_CHUNKS.has(type)) out.push(png.subarray(at, end));
    // An unknown critical chunk (upper-case first letter) is one the decoder must understand.
    else if (type[0]! < "a") throw unreadableStructure(`an unknown critical PNG chunk ${type}`);
    if (type === "IEND") return Buffer.concat(out);
    at = end;
  }
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0);
  return Buffer.concat([head, data, crc]);
}
