// Content-addressed image storage: a blob's name is the sha256 of its bytes, so identical
// uploads share one file, a name can never point at other content, and corruption on disk is
// detected on every read.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
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
   * flushed to disk, then renamed into place, so readers never see a partial blob and
   * concurrent writers of the same content both succeed (rename over an identical file is
   * harmless). The file and its folder entry are fsynced before the caller records the blob
   * in the database: a power cut must not leave a row pointing at bytes that never reached
   * the disk. A stored copy that no longer matches its name (damaged on disk) is replaced by
   * the good bytes, so uploading the image again repairs it.
   */
  /** Two-digit folders whose entry in the root this process has synced. */
  private readonly rootEntriesSynced = new Set<string>();

  /**
   * A two-digit folder is an entry in the root: synced too, or a power cut could take the folder,
   * and the blob a committed row points at, with it. Not only by the writer that created it: a
   * writer that crashed (or has not synced yet) may have made it. Once per folder per process.
   */
  private async syncRootEntryOf(dir: string): Promise<void> {
    if (this.rootEntriesSynced.has(dir)) return;
    await syncFolder(this.root);
    this.rootEntriesSynced.add(dir);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha256 = sha256Hex(bytes);
    const target = this.pathOf(sha256);
    const dir = join(this.root, sha256.slice(0, 2));
    // A copy already there may be one a crashed writer renamed in but never synced: sync its
    // folder entry before the caller records it.
    if (await this.holdsIntact(sha256)) {
      // Fresh again: the orphan sweep leaves blobs put within its grace period alone.
      const now = new Date();
      await utimes(target, now, now).catch(() => undefined);
      await syncFolder(dir);
      await this.syncRootEntryOf(dir);
      return sha256;
    }
    await mkdir(dir, { recursive: true });
    await this.syncRootEntryOf(dir);
    const tmp = `${target}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const file = await open(tmp, "wx");
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await syncFolder(dir);
    return sha256;
  }

  /** Present with the content its name promises. */
  private async holdsIntact(sha256: string): Promise<boolean> {
    try {
      return sha256Hex(await readFile(this.pathOf(sha256))) === sha256;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
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

  /**
   * The bytes as chunks, for a response that should not hold a whole image in memory, verified
   * against their name as they go. The last chunk is held back until everything read has hashed
   * right: a damaged blob never reaches a reader whole (the iteration throws BlobCorruptError
   * instead), and one that fits in a chunk fails before anything is yielded. A missing blob
   * throws BlobNotFoundError here, before any chunk.
   */
  async open(sha256: string, chunkBytes = 64 * 1024): Promise<{ size: number; chunks: AsyncGenerator<Buffer> }> {
    const file = this.pathOf(sha256);
    let size: number;
    try {
      ({ size } = await stat(file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new BlobNotFoundError(sha256);
      throw err;
    }
    // The file is opened by the first read and closed when the reading ends, however it ends: a
    // caller that never reads holds nothing open. (Only blobs no row refers to are ever removed,
    // and a caller opens a blob a row refers to, so the stat stands.)
    async function* chunks(): AsyncGenerator<Buffer> {
      const handle = await open(file, "r");
      const hash = createHash("sha256");
      let held: Buffer | null = null;
      try {
        for (;;) {
          const buf = Buffer.allocUnsafe(chunkBytes);
          const { bytesRead } = await handle.read(buf, 0, chunkBytes, null);
          if (bytesRead === 0) break;
          const chunk = buf.subarray(0, bytesRead);
          hash.update(chunk);
          if (held) yield held;
          held = chunk;
        }
        const actual = hash.digest("hex");
        if (actual !== sha256) throw new BlobCorruptError(sha256, actual);
        if (held) yield held;
      } finally {
        await handle.close();
      }
    }
    return { size, chunks: chunks() };
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await stat(this.pathOf(sha256));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Every stored blob and every temporary file a crashed writer left, with its age. Only the
   * orphan sweep (apps/api jobs/sweepOrphanBlobs.ts) removes anything, under its lock.
   */
  async *entries(): AsyncGenerator<{ sha256: string | null; path: string; mtimeMs: number }> {
    let dirs: string[];
    try {
      dirs = (await readdir(this.root)).filter((d) => /^[0-9a-f]{2}$/.test(d));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    for (const dir of dirs) {
      for (const name of await readdir(join(this.root, dir))) {
        const path = join(this.root, dir, name);
        const mtimeMs = await stat(path).then((s) => s.mtimeMs, () => null);
        if (mtimeMs !== null) yield { sha256: SHA256_HEX.test(name) ? name : null, path, mtimeMs };
      }
    }
  }

  /** Removes a file `entries()` listed (a blob or a temporary file); gone already is fine. */
  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}

/** Makes a rename durable: the new folder entry is on disk once this returns. */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
