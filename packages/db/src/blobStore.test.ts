import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// Counts the folders opened for an fsync (syncFolder opens a folder "r"), the rest untouched.
const opened: string[] = [];
vi.mock("node:fs/promises", async (original) => {
  const fs = await original<typeof import("node:fs/promises")>();
  return { ...fs, open: (path: string, flags?: string, mode?: number) => (opened.push(`${path} ${flags}`), fs.open(path, flags, mode)) };
});
import { BlobCorruptError, BlobNotFoundError, BlobStore, sha256Hex } from "./blobStore.ts";

describe("BlobStore", () => {
  let root: string;
  let store: BlobStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "blobs-"));
    store = new BlobStore(root);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("round-trips bytes under their sha256", async () => {
    const bytes = Buffer.from("a smear field");
    const key = await store.put(bytes);
    expect(key).toBe(sha256Hex(bytes));
    expect(await store.get(key)).toEqual(bytes);
    expect(await store.has(key)).toBe(true);
  });

  it("detects a blob corrupted on disk", async () => {
    const key = await store.put(Buffer.from("original"));
    await writeFile(join(root, key.slice(0, 2), key), "tampered");
    await expect(store.get(key)).rejects.toBeInstanceOf(BlobCorruptError);
  });

  it("streams a blob in chunks, holding the last back until the whole has hashed right", async () => {
    const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
    const key = await store.put(bytes);
    const ok = await store.open(key, 4096);
    expect(ok.size).toBe(bytes.length);
    const got: Buffer[] = [];
    for await (const c of ok.chunks) got.push(c);
    expect(got.map((c) => c.length)).toEqual([4096, 4096, 1808]);
    expect(Buffer.concat(got)).toEqual(bytes);
    // Damaged in its last byte: every chunk but the last is read, then the read fails.
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 1] = damaged.at(-1)! ^ 1;
    await writeFile(join(root, key.slice(0, 2), key), damaged);
    const bad = await store.open(key, 4096);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const c of bad.chunks) seen.push(c.length);
      })(),
    ).rejects.toBeInstanceOf(BlobCorruptError);
    expect(seen).toEqual([4096, 4096]);
    // Within one chunk: nothing at all before the failure.
    const small = await store.put(Buffer.from("original"));
    await writeFile(join(root, small.slice(0, 2), small), "tampered");
    await expect((await store.open(small)).chunks.next()).rejects.toBeInstanceOf(BlobCorruptError);
    await expect(store.open("0".repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it("repairs a damaged copy when the same bytes are stored again", async () => {
    const bytes = Buffer.from("original");
    const key = await store.put(bytes);
    await writeFile(join(root, key.slice(0, 2), key), "trunc");
    expect(await store.put(bytes)).toBe(key);
    expect(await store.get(key)).toEqual(bytes);
  });

  it("syncs a two-digit folder's entry in the root even when another writer created the folder", async () => {
    const bytes = new TextEncoder().encode("a crop");
    const sha = sha256Hex(bytes);
    // Made by a writer that crashed before syncing the root.
    await mkdir(join(root, sha.slice(0, 2)));
    opened.length = 0;
    await store.put(bytes);
    expect(opened).toContain(`${root} r`);
    // Once per folder and process: the next blob in it does not sync the root again.
    opened.length = 0;
    await store.put(bytes);
    expect(opened).not.toContain(`${root} r`);
  });

  it("reports a missing blob and refuses names that are not digests", async () => {
    await expect(store.get("0".repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.get("../../etc/passwd")).rejects.toThrow(/not a sha256/);
  });

  it("is safe under concurrent writes of the same content and leaves no temp files", async () => {
    const bytes = Buffer.alloc(256 * 1024, 7);
    const keys = await Promise.all(Array.from({ length: 16 }, () => store.put(bytes)));
    expect(new Set(keys).size).toBe(1);
    const dir = join(root, keys[0]!.slice(0, 2));
    expect(await readdir(dir)).toEqual([keys[0]]);
    expect(await store.get(keys[0]!)).toEqual(bytes);
  });
});
