import type { Writable } from "node:stream";

/** How long a client may take nothing of a response before it is cut off. */
export const STALL_MS = 30_000;

/**
 * Writes a chunk of a streamed response, waiting while the client reads slower than we produce
 * (else the whole answer piles up in memory). Resolves false when the client has gone: the
 * caller stops producing (and reading the database for) an answer nobody receives. A client
 * that takes nothing for `stallMs` (the buffered bytes do not go down) is cut off, the response
 * destroyed: it would otherwise hold what the answer holds (a read slot, a file, a database
 * cursor) for as long as it likes. A slow client that keeps reading is waited for.
 */
export async function writeOrWait(out: Writable, chunk: string | Uint8Array, stallMs = STALL_MS): Promise<boolean> {
  if (out.destroyed) return false;
  if (!out.write(chunk)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearInterval(timer);
        out.off("drain", done);
        out.off("close", done);
        resolve();
      };
      let buffered = out.writableLength;
      const timer = setInterval(() => {
        if (out.writableLength < buffered) {
          buffered = out.writableLength;
          return;
        }
        out.destroy();
        done();
      }, stallMs);
      out.on("drain", done);
      out.on("close", done);
    });
  }
  return !out.destroyed;
}
