import type { Writable } from "node:stream";

/**
 * Writes a chunk of a streamed response, waiting while the client reads slower than we produce
 * (else the whole answer piles up in memory). Resolves false when the client has gone: the
 * caller stops producing (and reading the database for) an answer nobody receives.
 */
export async function writeOrWait(out: Writable, chunk: string | Uint8Array): Promise<boolean> {
  if (out.destroyed) return false;
  if (!out.write(chunk)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        out.off("drain", done);
        out.off("close", done);
        resolve();
      };
      out.on("drain", done);
      out.on("close", done);
    });
  }
  return !out.destroyed;
}
