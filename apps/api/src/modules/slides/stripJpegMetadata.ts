// A JPEG without its metadata (see stripMetadata.ts): its segments walked as libjpeg walks them,
// those the decoder reads copied byte for byte, the others left out.
import { unreadableStructure } from "./validateImage.ts";

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DNL = 0xdc;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP14 = 0xee;
const COM = 0xfe;

/**
 * `jpeg` with only what its decoder reads: frame headers, tables, restart intervals and scans as
 * they are; of the APPn segments, JFIF (APP0: colour space, density; its thumbnail dropped), ICC
 * profiles (APP2) and Adobe's (APP14: colour transform), which change how pixels decode. Exif and
 * XMP (APP1), IPTC/Photoshop (APP13), every other APPn, comments (COM) and whatever follows the
 * end-of-image marker are left out. `exif` (a TIFF block), if any, is written as the only APP1.
 */
export function jpegWithoutMetadata(jpeg: Buffer, exif: Buffer | null): Buffer {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) throw unreadableStructure("no JPEG start marker");
  const out: Buffer[] = [jpeg.subarray(0, 2)];
  let exifSegment = exif ? segment(APP1, Buffer.concat([Buffer.from("Exif\0\0", "latin1"), exif])) : null;
  let at = 2;
  for (;;) {
    const { marker, start } = nextMarker(jpeg, at);
    // Where an Exif APP1 goes: after SOI and the JFIF APP0, before anything else.
    if (exifSegment && marker !== APP0) {
      out.push(exifSegment);
      exifSegment = null;
    }
    if (marker === EOI) {
      out.push(jpeg.subarray(start, start + 2));
      return Buffer.concat(out);
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      // TEM or a restart marker outside a scan: no data, skipped by the decoder.
      at = start + 2;
      continue;
    }
    if (marker === SOI) throw unreadableStructure("a second JPEG start marker");
    if (start + 4 > jpeg.length) throw unreadableStructure("a segment runs past the end of the file");
    const length = jpeg.readUInt16BE(start + 2);
    const end = start + 2 + length;
    if (length < 2 || end > jpeg.length) throw unreadableStructure("a segment runs past the end of the file");
    if (marker === DNL) {
      // Never read: libjpeg skips a DNL segment whatever it holds (jdmarker.c: "unsupported"), and
      // refuses the zero-height frame it would serve. Kept, its bytes could carry any text.
      at = end;
    } else if (isDecodingMarker(marker)) {
      const stop = marker === SOS ? endOfScan(jpeg, end) : end;
      out.push(jpeg.subarray(start, stop));
      at = stop;
    } else if ((marker >= APP0 && marker <= 0xef) || marker === COM) {
      const kept = decodedPartOf(marker, jpeg.subarray(start + 4, end));
      if (kept) out.push(segment(marker, kept));
      at = end;
    } else {
      throw unreadableStructure(`an unknown JPEG marker 0xFF${marker.toString(16).toUpperCase()}`);
    }
  }
}

/**
 * Frame headers (SOFn), Huffman and arithmetic tables (DHT, DAC), quantisation tables (DQT),
 * restart interval (DRI), hierarchical markers (DHP, EXP: libjpeg refuses them, so a file with
 * one never gets here) and scans (SOS). 0xC8 is reserved; DNL is dropped before this is asked.
 */
function isDecodingMarker(marker: number): boolean {
  return (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc8) || (marker >= SOS && marker <= 0xdf);
}

/**
 * The part of an APPn/COM payload the decoder reads, or null: libjpeg reads the first 14 bytes of
 * a JFIF APP0 and the first 12 of an Adobe APP14 (jdmarker.c), libvips a whole ICC_PROFILE APP2.
 */
function decodedPartOf(marker: number, payload: Buffer): Buffer | null {
  const startsWith = (id: string) => payload.subarray(0, id.length).equals(Buffer.from(id, "latin1"));
  if (marker === APP0 && payload.length >= 14 && startsWith("JFIF\0")) {
    const jfif = Buffer.from(payload.subarray(0, 14));
    jfif[12] = 0; // no thumbnail: a stale one may show what the image no longer does
    jfif[13] = 0;
    return jfif;
  }
  if (marker === APP2 && startsWith("ICC_PROFILE\0")) return payload;
  if (marker === APP14 && payload.length >= 12 && startsWith("Adobe")) return payload.subarray(0, 12);
  return null;
}

function segment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/**
 * The next marker from `at`, found as libjpeg's next_marker finds it: bytes other than 0xFF
 * before it are skipped (libjpeg warns of "extraneous bytes" and ignores them; so are they here),
 * as are fill bytes (0xFF runs) and a stuffed 0xFF00. `start` is the 0xFF right before the code.
 */
function nextMarker(jpeg: Buffer, at: number): { marker: number; start: number } {
  let i = at;
  for (;;) {
    const ff = jpeg.indexOf(0xff, i);
    if (ff < 0) throw unreadableStructure("it ends before its JPEG end marker");
    let code = ff + 1;
    while (code < jpeg.length && jpeg[code] === 0xff) code++;
    if (code >= jpeg.length) throw unreadableStructure("it ends before its JPEG end marker");
    if (jpeg[code] !== 0x00) return { marker: jpeg[code]!, start: code - 1 };
    i = code + 1;
  }
}

/**
 * Where a scan's entropy-coded data ends: at the first marker that is neither a stuffed 0xFF00
 * nor a restart marker (RSTn lie inside the data). Fill bytes before the marker stay with the data.
 */
function endOfScan(jpeg: Buffer, from: number): number {
  let i = from;
  for (;;) {
    const ff = jpeg.indexOf(0xff, i);
    if (ff < 0 || ff + 1 >= jpeg.length) throw unreadableStructure("a scan runs past the end of the file");
    const next = jpeg[ff + 1]!;
    if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) {
      i = ff + 1 + (next === 0xff ? 0 : 1);
      continue;
    }
    return ff;
  }
}
