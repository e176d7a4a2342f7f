// Bounded multipart parsing (busboy): at most maxFiles files of maxBytes each and maxTotalBytes
// together, held in memory until every one has been validated, so a bad file means nothing at
// all is stored. After the first refusal nothing more is buffered; the rest is drained.
import type { Request } from "express";
import busboy from "busboy";
import { badInput } from "../../errors.ts";
import { nulMessage } from "../../lib/nulText.ts";
import { uploadedFileName } from "./fileName.ts";

export interface UploadedFile {
  /** What messages call the file: its cleaned name, else "unnamed". */
  filename: string;
  /** The cleaned name as sent (fileName.ts), null when the part had none: what the slide records. */
  originalName: string | null;
  bytes: Buffer;
}

export interface ParsedUpload {
  files: UploadedFile[];
  fields: Record<string, string>;
}

/** A body that sends nothing for this long is dropped (slow senders would hold an upload slot). */
const UPLOAD_IDLE_MS = 30_000;

export function parseMultipart(req: Request, limits: { maxBytes: number; maxFiles: number; maxTotalBytes: number }): Promise<ParsedUpload> {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("multipart/form-data")) {
    return Promise.reject(badInput("Send the images as multipart/form-data in the field `files`"));
  }
  // A client gone while the request waited for an upload slot has already emitted "close": the
  // listeners below would never fire, and the slot would be held for good.
  if (req.destroyed || req.readableAborted) return Promise.reject(badInput("The upload was interrupted"));
  return new Promise((resolve, reject) => {
    let failed: Error | null = null;
    const fail = (err: Error) => {
      failed ??= err;
    };
    const files: UploadedFile[] = [];
    let total = 0;
    const fields: Record<string, string> = {};
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        // Browsers send a file name as raw UTF-8: read as latin1 (busboy's default), "café.jpg"
        // would come back as "cafÃ©.jpg" in the error messages that name it.
        defParamCharset: "utf8",
        limits: { fileSize: limits.maxBytes, files: limits.maxFiles, fields: 10, fieldSize: 1000, parts: limits.maxFiles + 10 },
      });
    } catch {
      reject(badInput("Malformed multipart request"));
      return;
    }
    bb.on("file", (name, stream, info) => {
      const originalName = uploadedFileName(info.filename);
      const filename = originalName ?? "unnamed";
      if (name !== "files") {
        fail(badInput(`Unexpected file field "${name.slice(0, 50)}": use "files"`));
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => {
        total += c.length;
        if (total > limits.maxTotalBytes) fail(badInput(`The upload is larger than ${limits.maxTotalBytes} bytes in all: send the files in several uploads`));
        if (failed) {
          files.length = 0;
          chunks.length = 0;
        } else chunks.push(c);
      });
      stream.on("limit", () => fail(badInput(`${filename}: larger than ${limits.maxBytes} bytes`)));
      // A body cut off inside a file errors this stream; unhandled, it would crash the process.
      stream.on("error", () => fail(badInput("Malformed multipart request")));
      stream.on("close", () => {
        if (!failed) files.push({ filename, originalName, bytes: Buffer.concat(chunks) });
      });
    });
    bb.on("field", (name, value) => {
      // Stored as text (stain), where PostgreSQL cannot hold U+0000.
      if (value.includes("\u0000")) fail(badInput(nulMessage(`Field ${name.slice(0, 40)}`)));
      fields[name] = value;
    });
    bb.on("filesLimit", () => fail(badInput(`At most ${limits.maxFiles} files per upload`)));
    bb.on("partsLimit", () => fail(badInput("Too many parts in the upload")));
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      if (failed) reject(failed);
      else {
        // The idle limit guards the body only: decoding and storing may take longer than it. (On
        // a refusal it stays: the rest of the body is drained, and a silent sender is dropped.)
        req.setTimeout(0);
        resolve({ files, fields });
      }
    };
    // busboy does not always emit "close" after an error (e.g. a malformed part header): answer
    // at once and drain the rest of the body, rather than leaving the request hanging.
    bb.on("error", () => {
      fail(badInput("Malformed multipart request"));
      req.unpipe(bb);
      req.resume();
      settle();
    });
    bb.on("close", settle);
    // A client gone mid-body (dropped connection, or a sender silent past the idle limit) ends
    // neither busboy nor its streams: answer here, or the upload slot it holds is never released.
    const interrupted = () => {
      fail(badInput("The upload was interrupted"));
      settle();
    };
    req.on("error", interrupted);
    req.on("close", () => {
      if (!req.complete) interrupted();
    });
    req.setTimeout(UPLOAD_IDLE_MS, () => req.destroy());
    req.pipe(bb);
  });
}
