import { crc32 } from "node:zlib";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { withoutMetadata } from "./stripMetadata.ts";
import { InvalidImageError, validateImage } from "./validateImage.ts";

const MRN = "MRN-4411";
const LIMITS = { maxBytes: 25 * 1024 * 1024, maxPixels: 40_000_000 };

/** A noisy field: every pixel counts, so a decode that differs anywhere shows. */
const field = (w = 96, h = 64) => sharp({ create: { width: w, height: h, channels: 3, background: "#804060", noise: { type: "gaussian", mean: 128, sigma: 50 } } });

const jpegSegment = (marker: number, payload: Buffer | string) => {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, "latin1");
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
};
/** `segments` right after SOI. */
const afterSoi = (jpeg: Buffer, ...segments: Buffer[]) => Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
/** `segments` right before EOI, after the last scan. */
const beforeEoi = (jpeg: Buffer, ...segments: Buffer[]) => Buffer.concat([jpeg.subarray(0, -2), ...segments, jpeg.subarray(-2)]);

const pngChunk = (type: string, data: Buffer | string) => {
  const body = Buffer.concat([Buffer.from(type, "latin1"), Buffer.isBuffer(data) ? data : Buffer.from(data, "latin1")]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length - 4);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
};
/** `chunks` right after IHDR (8 bytes of signature, 25 of IHDR). */
const afterIhdr = (png: Buffer, ...chunks: Buffer[]) => Buffer.concat([png.subarray(0, 33), ...chunks, png.subarray(33)]);
const chunkTypes = (png: Buffer) => {
  const types: string[] = [];
  for (let at = 8; at < png.length; at += 12 + png.readUInt32BE(at)) types.push(png.toString("latin1", at + 4, at + 8));
  return types;
};

/** IPTC caption (2:120) inside a Photoshop APP13 resource block. */
const iptcApp13 = () => {
  const caption = Buffer.concat([Buffer.from([0x1c, 0x02, 0x78, 0x00, MRN.length]), Buffer.from(MRN, "latin1")]);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(caption.length);
  return jpegSegment(0xed, Buffer.concat([Buffer.from("Photoshop 3.0\0" + "8BIM\x04\x04\0\0", "latin1"), size, caption]));
};
const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description>${MRN}</dc:description></rdf:Description></rdf:RDF></x:xmpmeta>`;

/** Decoded as stored and as shown (turned by EXIF orientation): both must be identical. */
const decoded = async (bytes: Buffer) => ({
  asStored: await sharp(bytes).raw().toBuffer({ resolveWithObject: true }),
  asShown: await sharp(bytes).rotate().raw().toBuffer({ resolveWithObject: true }),
});

async function strip(bytes: Buffer): Promise<Buffer> {
  const image = await validateImage(bytes, LIMITS);
  return withoutMetadata(bytes, image.format, image.orientation);
}

async function expectSamePixels(original: Buffer, stripped: Buffer) {
  expect(await decoded(stripped)).toEqual(await decoded(original));
  // The same image to the upload as well: size as shown, orientation and the model's pixel hash.
  expect(await validateImage(stripped, LIMITS)).toEqual(await validateImage(original, LIMITS));
}

describe("withoutMetadata: JPEG", () => {
  it("drops EXIF, XMP, IPTC, comments and trailing data; keeps the pixels, the ICC profile and the orientation", async () => {
    const tagged = await field().jpeg({ quality: 90 }).withExif({ IFD0: { ImageDescription: MRN }, IFD2: { UserComment: MRN } }).withMetadata({ orientation: 6 }).withXmp(xmp).withIccProfile("p3").toBuffer();
    const original = Buffer.concat([beforeEoi(afterSoi(tagged, iptcApp13(), jpegSegment(0xfe, `patient ${MRN}`)), jpegSegment(0xfe, MRN)), Buffer.from(`trailer ${MRN}`)]);
    expect(original.includes(MRN)).toBe(true);
    const meta = await sharp(original).metadata();
    expect([meta.orientation, meta.icc !== undefined, meta.exif !== undefined, meta.xmp !== undefined, meta.iptc !== undefined]).toEqual([6, true, true, true, true]);

    const stripped = await strip(original);
    expect(stripped.includes(MRN)).toBe(false);
    expect(stripped.length).toBeLessThan(original.length);
    const kept = await sharp(stripped).metadata();
    expect(kept.orientation).toBe(6);
    expect(kept.icc?.equals(meta.icc!)).toBe(true);
    expect([kept.xmp, kept.iptc, kept.comments]).toEqual([undefined, undefined, undefined]);
    expect(kept.autoOrient).toEqual(meta.autoOrient);
    await expectSamePixels(original, stripped);
    // Stable: stripping again changes nothing (the stored bytes, and so their hash, are final).
    expect((await strip(stripped)).equals(stripped)).toBe(true);
  });

  it("keeps JFIF (without its thumbnail) and Adobe's colour marker, which change how pixels decode", async () => {
    const plain = await field().jpeg().toBuffer();
    const thumbnail = Buffer.from(MRN.padEnd(12, " "), "latin1"); // 2 x 2 RGB "pixels"
    const jfif = jpegSegment(0xe0, Buffer.concat([Buffer.from("JFIF\0\x01\x01\x01\0\x48\0\x48\x02\x02", "latin1"), thumbnail]));
    const adobe = jpegSegment(0xee, `Adobe\0\x64\0\0\0\0\x01${MRN}`);
    const original = afterSoi(plain, jfif, jpegSegment(0xe1, `http://ns.adobe.com/xap/1.0/\0${MRN}`), adobe);
    const stripped = await strip(original);
    expect(stripped.includes(MRN)).toBe(false);
    expect(stripped.subarray(0, 2 + 18).equals(Buffer.concat([plain.subarray(0, 2), jpegSegment(0xe0, "JFIF\0\x01\x01\x01\0\x48\0\x48\0\0")]))).toBe(true);
    expect(stripped.includes(jpegSegment(0xee, "Adobe\0\x64\0\0\0\0\x01"))).toBe(true);
    expect((await sharp(stripped).metadata()).density).toBe(72);
    await expectSamePixels(original, stripped);
  });

  it("walks progressive scans, and leaves a file without metadata byte for byte as it was", async () => {
    for (const plain of [await field().jpeg().toBuffer(), await field(200, 120).jpeg({ progressive: true }).toBuffer()]) {
      expect((await strip(plain)).equals(plain)).toBe(true);
      const commented = beforeEoi(plain, jpegSegment(0xfe, MRN));
      expect((await strip(commented)).equals(plain)).toBe(true);
    }
  });

  it("drops stray bytes between segments, which the decoder skips too", async () => {
    const plain = await field().jpeg().toBuffer();
    const afterFirst = 4 + plain.readUInt16BE(4);
    const padded = Buffer.concat([plain.subarray(0, afterFirst), Buffer.from(MRN, "latin1"), plain.subarray(afterFirst)]);
    expect((await validateImage(padded, LIMITS)).pixelSha256).toBe((await validateImage(plain, LIMITS)).pixelSha256);
    expect(withoutMetadata(padded, "jpeg", 1).equals(plain)).toBe(true);
  });

  it("drops a DNL segment, which the decoder skips unread whatever it holds", async () => {
    const plain = await field().jpeg().toBuffer();
    const carrying = afterSoi(plain, jpegSegment(0xdc, `${MRN} JS`));
    const stripped = await strip(carrying);
    expect(stripped.includes(Buffer.from(MRN, "latin1"))).toBe(false);
    expect(stripped.equals(plain)).toBe(true);
    await expectSamePixels(carrying, stripped);
  });

  it("refuses a JPEG whose segments cannot be walked, rather than keep its metadata", async () => {
    const plain = await field().jpeg().toBuffer();
    const overlong = Buffer.from(jpegSegment(0xe1, `Exif\0\0${MRN}`));
    overlong.writeUInt16BE(0xfff0, 2); // says it runs far past the end of the file
    const cases: [string, Buffer, RegExp][] = [
      ["a segment past the end", afterSoi(plain, overlong), /a segment runs past the end of the file/],
      ["a segment cut short", plain.subarray(0, 6), /segment runs past the end|ends before its JPEG end marker/],
      ["a scan without its end", plain.subarray(0, plain.length - 40), /a scan runs past the end of the file/],
      ["a length below 2", afterSoi(plain, Buffer.from([0xff, 0xe1, 0x00, 0x01])), /a segment runs past the end of the file/],
      ["a reserved marker", afterSoi(plain, jpegSegment(0xf0, MRN)), /unknown JPEG marker 0xFFF0/],
      ["a second start marker", afterSoi(plain, Buffer.from([0xff, 0xd8])), /a second JPEG start marker/],
      ["no start marker", plain.subarray(2), /no JPEG start marker/],
    ];
    for (const [name, bytes, message] of cases) {
      let error: unknown;
      try {
        withoutMetadata(bytes, "jpeg", 1);
      } catch (err) {
        error = err;
      }
      expect(error, name).toBeInstanceOf(InvalidImageError);
      expect((error as Error).message, name).toMatch(message);
      expect((error as Error).message, name).not.toContain(MRN);
    }
  });
});

describe("withoutMetadata: PNG", () => {
  it("drops tEXt, zTXt, iTXt, eXIf, tIME and unknown chunks; keeps the pixels, transparency, profile and orientation", async () => {
    const tagged = await field().ensureAlpha(0.8).png().withExif({ IFD0: { ImageDescription: MRN } }).withMetadata({ orientation: 8 }).withXmp(xmp).withIccProfile("p3").toBuffer();
    const original = Buffer.concat([
      afterIhdr(
        tagged,
        pngChunk("tEXt", `Comment\0${MRN}`),
        pngChunk("iTXt", `Description\0\0\0\0\0${MRN}`),
        pngChunk("tIME", Buffer.from([0x07, 0xea, 11, 28, 10, 0, 0])),
        pngChunk("prVt", MRN),
      ),
      Buffer.from(`after the end ${MRN}`),
    ]);
    expect(original.includes(MRN)).toBe(true);
    expect(chunkTypes(tagged)).toEqual(expect.arrayContaining(["eXIf", "zTXt", "iCCP"]));

    const stripped = await strip(original);
    expect(stripped.includes(MRN)).toBe(false);
    expect([...new Set(chunkTypes(stripped))]).toEqual(["IHDR", "iCCP", "pHYs", "eXIf", "IDAT", "IEND"]);
    const kept = await sharp(stripped).metadata();
    expect([kept.orientation, kept.hasAlpha, kept.xmp, kept.comments]).toEqual([8, true, undefined, undefined]);
    await expectSamePixels(original, stripped);
    expect((await strip(stripped)).equals(stripped)).toBe(true);
  });

  it("leaves a PNG without metadata byte for byte as it was", async () => {
    const plain = await field().png().toBuffer();
    expect((await strip(plain)).equals(plain)).toBe(true);
    const texted = afterIhdr(plain, pngChunk("tEXt", `Source\0${MRN}`));
    expect((await strip(texted)).equals(plain)).toBe(true);
  });

  it("refuses a PNG whose chunks cannot be walked, rather than keep its metadata", async () => {
    const plain = await field().png().toBuffer();
    const overlong = Buffer.from(pngChunk("tEXt", `Comment\0${MRN}`));
    overlong.writeUInt32BE(0x10000, 0);
    const cases: [string, Buffer, RegExp][] = [
      ["a chunk past the end", afterIhdr(plain, overlong), /its tEXt chunk runs past the end of the file/],
      ["no end chunk", plain.subarray(0, plain.length - 12), /ends before its PNG end chunk/],
      ["cut inside a chunk", plain.subarray(0, 40), /runs past the end|ends before its PNG end chunk/],
      ["a chunk type that is no name", afterIhdr(plain, pngChunk("t\0Xt", MRN)), /no valid type/],
      ["an unknown critical chunk", afterIhdr(plain, pngChunk("MRNX", MRN)), /unknown critical PNG chunk MRNX/],
    ];
    for (const [name, bytes, message] of cases) {
      expect(() => withoutMetadata(bytes, "png", 1), name).toThrow(InvalidImageError);
      expect(() => withoutMetadata(bytes, "png", 1), name).toThrow(message);
    }
  });
});
