import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
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

  it("repairs a damaged copy when the same bytes are stored again", async () => {
    const bytes = Buffer.from("original");
    const key = await store.put(bytes);
    await writeFile(join(root, key.slice(0, 2), key), "trunc");
    expect(await store.put(bytes)).toBe(key);
    expect(await store.get(key)).toEqual(bytes);
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
