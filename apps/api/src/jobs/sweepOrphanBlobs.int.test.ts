// The orphan-image sweep on a real PostgreSQL and blob folder: what no record refers to goes
// after the grace period; what a record refers to, or a writer is about to record, stays.
import { BlobStore, sha256Hex } from "@rcmnet/db";
import { createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keepBlobs, sweepOrphanBlobs } from "./sweepOrphanBlobs.ts";

let db: TestDatabase;
let dir: string;
let blobs: BlobStore;
let userId: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "rcmnet-sweep-"));
  blobs = new BlobStore(join(dir, "blobs"));
  userId = (await db.prisma.user.create({ data: { login: "tech", displayName: "T", role: "TECHNICIAN", passwordHash: "x" } })).id;
});
afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const bytes = (s: string) => new TextEncoder().encode(s);
const path = (sha: string) => join(blobs.root, sha.slice(0, 2), sha);
const DAY = 24 * 3600 * 1000;
/** Puts the bytes and dates the file `ageMs` back. */
async function stored(content: string, ageMs: number): Promise<string> {
  const sha = await blobs.put(bytes(content));
  const then = new Date(Date.now() - ageMs);
  await utimes(path(sha), then, then);
  return sha;
}

async function slideWith(imageSha256: string, accession: string) {
  const kase = await db.prisma.case.create({ data: { accession, createdById: userId } });
  return db.prisma.slide.create({
    data: { caseId: kase.id, imageSha256, mimeType: "image/png", byteSize: 1, width: 1, height: 1, uploadedById: userId },
  });
}

describe("sweepOrphanBlobs", () => {
  it("removes old files no record refers to, and temporary files; keeps referenced and recent ones", async () => {
    const orphan = await stored("left by a refused upload", 2 * DAY);
    const recent = await stored("uploaded a minute ago, not committed yet", 60_000);
    const field = await stored("a field image", 2 * DAY);
    const crop = await stored("a cell crop", 2 * DAY);
    const slide = await slideWith(field, "SW-1");
    await db.prisma.cell.create({ data: { slideId: slide.id, x: 0, y: 0, width: 1, height: 1, cropSha256: crop } });
    const tmp = join(blobs.root, orphan.slice(0, 2), `${orphan}.123.abc.tmp`);
    await writeFile(tmp, "half written");
    await utimes(tmp, new Date(Date.now() - 2 * DAY), new Date(Date.now() - 2 * DAY));

    expect(await sweepOrphanBlobs(db.prisma, blobs)).toBe(2);
    expect(await blobs.has(orphan)).toBe(false);
    expect(await blobs.has(recent)).toBe(true);
    expect(await blobs.get(field)).toEqual(Buffer.from(bytes("a field image")));
    expect(await blobs.get(crop)).toEqual(Buffer.from(bytes("a cell crop")));
    expect(await sweepOrphanBlobs(db.prisma, blobs)).toBe(0);
  });

  it("a blob put again is fresh: the sweep leaves it for the grace period", async () => {
    const sha = await stored("refused two days ago, uploaded again now", 2 * DAY);
    await blobs.put(bytes("refused two days ago, uploaded again now"));
    expect(await sweepOrphanBlobs(db.prisma, blobs)).toBe(0);
    expect(await blobs.has(sha)).toBe(true);
  });

  it("a writer recording a blob holds the sweep off until it commits; one swept before is written again", async () => {
    const content = "found already stored by an upload";
    const sha = await stored(content, 2 * DAY);
    // The writer's transaction: keepBlobs, then the row, committed only after the sweep started.
    let commit!: () => void;
    const committing = new Promise<void>((r) => (commit = r));
    let kept!: () => void;
    const keptNow = new Promise<void>((r) => (kept = r));
    const writer = db.prisma.$transaction(async (tx) => {
      await keepBlobs(tx, blobs, [{ sha256: sha, bytes: bytes(content) }]);
      kept();
      await committing;
      const kase = await tx.case.create({ data: { accession: "SW-RACE", createdById: userId } });
      await tx.slide.create({ data: { caseId: kase.id, imageSha256: sha, mimeType: "image/png", byteSize: 1, width: 1, height: 1, uploadedById: userId } });
    });
    await keptNow;
    const sweep = sweepOrphanBlobs(db.prisma, blobs);
    await new Promise((r) => setTimeout(r, 200)); // the sweep is waiting on the writer's lock
    commit();
    await writer;
    expect(await sweep).toBe(0);
    expect(await blobs.has(sha)).toBe(true);

    // Swept first: the writer's check finds it gone and puts the bytes back before its row.
    const late = await stored("swept just before its upload's transaction", 2 * DAY);
    expect(await sweepOrphanBlobs(db.prisma, blobs)).toBe(1);
    await db.prisma.$transaction((tx) => keepBlobs(tx, blobs, [{ sha256: late, bytes: bytes("swept just before its upload's transaction") }]));
    expect(await blobs.get(late)).toEqual(Buffer.from(bytes("swept just before its upload's transaction")));
    expect(sha256Hex(bytes(content))).toBe(sha);
  });

  it("takes its lock only for orphans: uploads holding their shared lock do not stop a sweep of referenced images", async () => {
    const field = await stored("an old field image, referenced", 2 * DAY);
    await slideWith(field, "SW-BUSY");
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const lockedNow = new Promise<void>((r) => (locked = r));
    // An upload's transaction in progress, holding the shared lock.
    const upload = db.prisma.$transaction(async (tx) => {
      await keepBlobs(tx, blobs, []);
      locked();
      await held;
    });
    await lockedNow;
    try {
      const swept = await Promise.race([sweepOrphanBlobs(db.prisma, blobs), new Promise((r) => setTimeout(() => r("waited on the lock"), 2_000))]);
      expect(swept).toBe(0);
    } finally {
      release();
      await upload;
    }
  });
});
