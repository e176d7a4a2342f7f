// An uploaded image without its metadata, losslessly: what is stored, addressed and served.
//
// Why at upload, and why this way. Scanners and the people exporting fields write patient
// references into an image's metadata (EXIF ImageDescription/UserComment, XMP, IPTC, JPEG
// comments, PNG text chunks) as they do into its file name. The file name is withheld from the
// roles that may not see patient references (Slide.originalName), but /blobs/<sha256> serves the
// stored bytes to every case reader. Removing the metadata once, before the bytes are stored, means
// no copy of it exists for any route to leak (the worker's crops, a CROP slide's own image, a
// future export), the blob stays content-addressed (its name is the sha256 of what is served, one
// cacheable answer for every role) and deduplication keeps working by bytes. Stripping at serve time
// instead would give one URL two contents by role, and keep the patient's number on disk.
//
// Lossless: nothing is re-encoded. Every part the decoder reads to produce pixels is copied byte for
// byte (the pixels, their tables, the colour profile, JPEG's JFIF/Adobe colour markers, PNG's
// transparency and gamma), so the stored file decodes to exactly the pixels received and the
// slide's pixelSha256 is the received file's. Everything else is left out (an allow-list: an
// unknown APPn segment or ancillary chunk may hold text as well). One piece of metadata changes
// what is shown: the EXIF orientation, by which browsers and the worker turn the image. It is
// written back alone (orientationOnlyExif), read as the decoder reads it (validateImage), so the
// image is shown and analysed as before.
//
// A file whose structure cannot be walked to the end is refused (unreadableStructure, an
// InvalidImageError: the upload answers BAD_USER_INPUT), never stored as received.
import { jpegWithoutMetadata } from "./stripJpegMetadata.ts";
import { pngWithoutMetadata } from "./stripPngMetadata.ts";
import type { ImageFormat } from "./validateImage.ts";

/**
 * `bytes` without metadata: a validated image (validateImage) of `format`, whose EXIF orientation
 * the decoder reads as `orientation`.
 */
export function withoutMetadata(bytes: Buffer, format: ImageFormat, orientation: number): Buffer {
  const exif = orientation >= 2 && orientation <= 8 ? orientationOnlyExif(orientation) : null;
  return format === "jpeg" ? jpegWithoutMetadata(bytes, exif) : pngWithoutMetadata(bytes, exif);
}

/**
 * A TIFF block (EXIF's body) holding one tag, IFD0's Orientation: big-endian header, one IFD of
 * one entry (tag 0x0112, SHORT, count 1), no next IFD.
 */
export function orientationOnlyExif(orientation: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write("MM\0*", 0, "latin1");
  tiff.writeUInt32BE(8, 4); // IFD0 right after the header
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(0x0112, 10);
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(orientation, 18); // the value, left-justified in its 4 bytes
  tiff.writeUInt32BE(0, 22); // no next IFD
  return tiff;
}
