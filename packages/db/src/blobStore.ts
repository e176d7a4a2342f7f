// Content-addressed image storage: a blob's name is the sha256 of its bytes, so identical
// uploads share one file, a name can never point at other content, and corruption on disk is
// detected on every read.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

const SHA256_HEX = /^[0-9a-f]{64}$/;

export class BlobNotFoundError extends Error {
  constructor(readonly sha256: string) {
    super(`blob ${sha256} not found`);
  }
}

export class BlobCorruptError extends Error {
  constructor(readonly sha256: string, readonly actual: string) {
    super(`blob ${sha256} is corrupt: its content hashes to ${actual}`);
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export class BlobStore {
  constructor(readonly root: string) {}

  /** Fan out by the first two hex digits so no folder grows past a few thousand files. */
  private pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256 hex digest: ${JSON.stringify(sha256)}`);
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  /**
   * Stores the bytes and returns their sha256. Atomic: written to a unique temporary file,
   * then renamed into place, so readers never see a partial blob and concurrent writers of the
   * same content both succeed (rename over an identical file is harmless).
   */
  async put(bytes: Uint8Array): Promise<string> {
    const sha256 = sha256Hex(bytes);
    const target = this.pathOf(sha256);
    if (await this.has(sha256)) return sha256;
    await mkdir(join(this.root, sha256.slice(0, 2)), { recursive: true });
    const tmp = `${target}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await writeFile(tmp, bytes, { flag: "wx" });
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return sha256;
  }

  /** The bytes, verified against their name. */
  async get(sha256: string): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new BlobNotFoundError(sha256);
      throw err;
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) throw new BlobCorruptError(sha256, actual);
    return bytes;
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await stat(this.pathOf(sha256));
      return true;
    } catch {
      return false;
    }
  }
}
