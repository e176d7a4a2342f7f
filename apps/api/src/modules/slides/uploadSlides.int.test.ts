import { readdir, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import sharp from "sharp";
import { sha256Hex } from "@rcmnet/db";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { databaseFingerprint } from "../../testing/fixtures.ts";
import { failSlide } from "../../jobs/handlers/analyzeSlide.ts";
import { blobReadSlots, blobReadSlotsPerUser } from "./blobRoutes.ts";

let api: TestApi;
let tech: string;
let caseId: string;

const png = (w: number, h: number, seed = 0) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 100 + seed, b: 150 } } }).png().toBuffer();
const jpeg = (w: number, h: number, seed = 0) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 90 + seed, g: 60, b: 160 } } }).jpeg().toBuffer();

/** A valid PNG header that declares a 50,000 x 50,000 image in a few bytes: a decompression bomb. */
function pngBomb(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(50_000, 0);
  ihdr.writeUInt32BE(50_000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), chunk("IEND", Buffer.alloc(0))]);
}

async function upload(token: string | null, files: { name: string; bytes: Buffer }[], query = `caseId=${caseId}`, fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const f of files) form.append("files", new Blob([new Uint8Array(f.bytes)]), f.name);
  const res = await api.fetch(`/uploads/slides?${query}`, { method: "POST", body: form, token });
  return { status: res.status, body: (await res.json()) as any };
}

async function blobFiles(): Promise<string[]> {
  try {
    return (await readdir(api.blobs.root, { recursive: true })).filter((f) => /[0-9a-f]{64}$/.test(f));
  } catch {
    return [];
  }
}

beforeAll(async () => {
  api = await createTestApi();
  tech = await api.loginAs("TECHNICIAN");
  const r = await api.gqlOk(tech, `mutation { createCase(input: { accession: "UP-1", patientRef: "MRN-77" }) { id status } }`);
  caseId = r.createCase.id;
});
afterAll(() => api?.close());

describe("slide uploads", () => {
  it("stores valid images, enqueues analysis, moves the case to ANALYZING, and serves the bytes", async () => {
    const field = await jpeg(640, 480);
    const r = await upload(tech, [{ name: "field1.jpg", bytes: field }, { name: "field2.png", bytes: await png(320, 240) }]);
    expect(r.status).toBe(201);
    expect(r.body.slides).toHaveLength(2);
    expect(r.body.slides[0]).toMatchObject({ kind: "FIELD", width: 640, height: 480, mimeType: "image/jpeg" });
    const jobs = await api.prisma.job.findMany({ where: { type: "analyzeSlide" } });
    expect(jobs.map((j) => (j.payload as { slideId: string }).slideId).sort()).toEqual(r.body.slides.map((s: { id: string }) => s.id).sort());
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: caseId } })).status).toBe("ANALYZING");
    expect(await api.prisma.auditEvent.count({ where: { action: "slide.upload" } })).toBe(2);
    expect(await blobFiles()).toHaveLength(2);

    const img = await api.fetch(`/blobs/${r.body.slides[0].imageSha256}`, { token: await api.loginAs("AUDITOR") });
    expect(img.status).toBe(200);
    expect(img.headers.get("content-type")).toBe("image/jpeg");
    expect(Buffer.from(await img.arrayBuffer()).equals(field)).toBe(true);
    expect((await api.fetch(`/blobs/${r.body.slides[0].imageSha256}`)).status).toBe(401);
    // The browser's copy is revalidated: 304 by its content address, after the role check.
    const etag = img.headers.get("etag");
    expect(etag).toBe(`"${r.body.slides[0].imageSha256}"`);
    const revalidated = await api.fetch(`/blobs/${r.body.slides[0].imageSha256}`, { token: tech, headers: { "if-none-match": etag! } });
    expect(revalidated.status).toBe(304);
    expect((await api.fetch(`/blobs/${r.body.slides[0].imageSha256}`, { headers: { "if-none-match": etag! } })).status).toBe(401);
    expect((await api.fetch(`/blobs/${"0".repeat(64)}`, { token: tech })).status).toBe(404);

    // Reads wait for a free slot (each holds a whole image in memory): with all taken, the
    // image comes once one is given back.
    const held = await Promise.all(Array.from({ length: 8 }, () => blobReadSlots.acquire(1_000)));
    const waiting = api.fetch(`/blobs/${r.body.slides[0].imageSha256}`, { token: tech });
    const early = await Promise.race([waiting.then(() => "answered"), new Promise((ok) => setTimeout(() => ok("waiting"), 300))]);
    held[0]!();
    expect(early).toBe("waiting");
    expect((await waiting).status).toBe(200);
    for (const release of held.slice(1)) release();
  });

  it("records each file's cleaned name, shown only to roles that see patient references, never changed", async () => {
    const r = await upload(tech, [
      { name: "C:\\scans\\MRN-77 field\u202Egpj.png", bytes: await png(37, 23, 5) },
      { name: "", bytes: await png(39, 23, 5) },
    ]);
    expect(r.status).toBe(201);
    const [named, unnamed] = r.body.slides.map((s: { id: string }) => s.id);
    const stored = await api.prisma.slide.findUniqueOrThrow({ where: { id: named } });
    expect(stored.originalName).toBe("MRN-77 fieldgpj.png");
    expect((await api.prisma.slide.findUniqueOrThrow({ where: { id: unnamed } })).originalName).toBeNull();

    const Q = `query($id: ID!) { case(id: $id) { slides { id originalName } } }`;
    const nameAs = async (token: string) => (await api.gqlOk(token, Q, { id: caseId })).case.slides.find((s: { id: string }) => s.id === named).originalName;
    for (const role of ["TECHNICIAN", "HEMATOLOGIST", "AUDITOR"] as const) expect(await nameAs(await api.loginAs(role)), role).toBe("MRN-77 fieldgpj.png");
    for (const role of ["ADMIN", "DATA_SCIENTIST"] as const) expect(await nameAs(await api.loginAs(role)), role).toBeNull();
    const TRAIL = `{ auditTrail(first: 5, filter: { action: "slide.upload", entityId: "${named}" }) { nodes { after } } }`;
    expect((await api.gqlOk(await api.loginAs("AUDITOR"), TRAIL)).auditTrail.nodes[0].after.originalName).toBe("MRN-77 fieldgpj.png");
    expect((await api.gqlOk(await api.loginAs("ADMIN"), TRAIL)).auditTrail.nodes[0].after.originalName).toBeNull();

    // Part of what the slide is: the database refuses to rename it, or to store a blank or
    // overlong name, whoever asks.
    const before = await databaseFingerprint(api.prisma);
    await expect(api.db.prisma.$executeRaw`UPDATE slide SET "originalName" = 'other.png' WHERE id = ${named}::uuid`).rejects.toThrow(/refused/);
    await expect(api.db.prisma.$executeRaw`UPDATE slide SET "originalName" = 'late.png' WHERE id = ${unnamed}::uuid`).rejects.toThrow(/refused/);
    for (const bad of [" ", "x".repeat(201)]) {
      await expect(
        api.db.prisma.$executeRaw`INSERT INTO slide (id, "caseId", "imageSha256", "mimeType", "byteSize", width, height, "uploadedById", "originalName", "updatedAt")
          SELECT gen_random_uuid(), "caseId", 'f'||"imageSha256", "mimeType", "byteSize", width, height, "uploadedById", ${bad}, now() FROM slide WHERE id = ${named}::uuid`,
      ).rejects.toThrow(/slide_original_name_shape/);
    }
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("lets no one user hold every image-read slot: their next read waits, another user's is served", async () => {
    const sha = await api.blobs.put(Buffer.from("a crop's bytes"));
    const me = await api.createUser("HEMATOLOGIST");
    const mine = await api.login(me.user.login, me.password);
    // As if three of my reads had stalled (a client that opened them and reads nothing).
    const held = await Promise.all(Array.from({ length: 3 }, () => blobReadSlotsPerUser.acquire(me.user.id, 1_000)));
    const waiting = api.fetch(`/blobs/${sha}`, { token: mine });
    const early = await Promise.race([waiting.then(() => "answered"), new Promise((ok) => setTimeout(() => ok("waiting"), 300))]);
    expect(early).toBe("waiting");
    expect((await api.fetch(`/blobs/${sha}`, { token: tech })).status).toBe(200);
    held[0]!();
    expect((await waiting).status).toBe(200);
    for (const release of held.slice(1)) release();
    // Given back when each response closes (just after the client has its bytes).
    await vi.waitFor(() => expect(blobReadSlotsPerUser.size).toBe(0));
  });

  it("streams an image in chunks, and never serves a damaged one whole", async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(300 * 1024)]);
    const sha = await api.blobs.put(bytes);
    const ok = await api.fetch(`/blobs/${sha}`, { token: tech });
    expect(ok.headers.get("content-length")).toBe(String(bytes.length));
    expect(Buffer.from(await ok.arrayBuffer()).equals(bytes)).toBe(true);
    // Its last byte flipped on disk: the answer starts (the hash is known only at the end) and is
    // cut short before its last chunk, so the browser sees a failed load, not a wrong image.
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 1] = damaged.at(-1)! ^ 1;
    await writeFile(join(api.blobs.root, sha.slice(0, 2), sha), damaged);
    const cut = await api.fetch(`/blobs/${sha}`, { token: tech });
    await expect(cut.arrayBuffer()).rejects.toThrow();
    // A damaged crop (one chunk) is verified before anything is sent: 404, as if missing.
    const crop = await api.blobs.put(Buffer.from("a small crop"));
    await writeFile(join(api.blobs.root, crop.slice(0, 2), crop), "a small cro!");
    expect((await api.fetch(`/blobs/${crop}`, { token: tech })).status).toBe(404);
    // Every read gave its slot back, the cut one included.
    const all = await Promise.all(Array.from({ length: 8 }, () => blobReadSlots.acquire(2_000)));
    for (const release of all) release();
  });

  it("refuses an upload that would leave the disk nearly full, storing nothing", async () => {
    const before = await databaseFingerprint(api.prisma);
    const blobsBefore = await blobFiles();
    const { minFreeDiskBytes } = api.env.limits;
    // As if the disk had less free than the platform keeps in reserve.
    api.env.limits.minFreeDiskBytes = Number.MAX_SAFE_INTEGER;
    try {
      const r = await upload(tech, [{ name: "f.png", bytes: await png(64, 64) }]);
      expect(r.status).toBe(503);
      expect(r.body.errors[0].extensions.code).toBe("UNAVAILABLE");
      expect(r.body.errors[0].message).toMatch(/disk is nearly full \(.* GiB free\): uploads are paused .* Nothing was stored/);
    } finally {
      api.env.limits.minFreeDiskBytes = minFreeDiskBytes;
    }
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    expect(await blobFiles()).toEqual(blobsBefore);
  });

  it("refuses bad uploads with a clear error and stores nothing at all", async () => {
    const good = await png(100, 100, 7);
    const truncated = (await jpeg(400, 300, 3)).subarray(0, 600);
    // An end-of-image marker inside the scan: libjpeg stops there and fills the rest grey, with
    // only a warning ("premature end of data segment"), not a truncation error.
    const endedEarly = Buffer.from(
      await sharp({ create: { width: 256, height: 256, channels: 3, background: "#000", noise: { type: "gaussian", mean: 128, sigma: 40 } } }).jpeg({ quality: 90 }).toBuffer(),
    );
    endedEarly.writeUInt16BE(0xffd9, Math.floor(endedEarly.length * 0.75));
    // Stray bytes between two markers: libjpeg warns ("3 extraneous bytes before marker …") and
    // skips them, every pixel is there. Accepted.
    const jpg = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#8040a0" } }).jpeg().toBuffer();
    const afterFirstSegment = 4 + jpg.readUInt16BE(4); // SOI, then the first segment's marker and length
    const padded = Buffer.concat([jpg.subarray(0, afterFirstSegment), Buffer.from([0x12, 0x34, 0x56]), jpg.subarray(afterFirstSegment)]);
    const hematologist = await api.loginAs("HEMATOLOGIST");
    const cases: [string, () => Promise<{ status: number; body: any }>, number, string, RegExp][] = [
      ["not an image", () => upload(tech, [{ name: "notes.png", bytes: Buffer.from("hello, I am text") }]), 400, "BAD_USER_INPUT", /not a JPEG or PNG/],
      ["a file name in UTF-8", () => upload(tech, [{ name: "frottis-café-Ø.png", bytes: Buffer.from("hello, I am text") }]), 400, "BAD_USER_INPUT", /frottis-café-Ø\.png: not a JPEG or PNG/],
      ["zero bytes", () => upload(tech, [{ name: "empty.png", bytes: Buffer.alloc(0) }]), 400, "BAD_USER_INPUT", /empty/],
      ["truncated", () => upload(tech, [{ name: "cut.jpg", bytes: truncated }]), 400, "BAD_USER_INPUT", /truncated or corrupt/],
      ["ends mid-scan", () => upload(tech, [{ name: "ended.jpg", bytes: endedEarly }]), 400, "BAD_USER_INPUT", /ended\.jpg: the image data is damaged \(Corrupt JPEG data: premature end of data segment\)/],
      ["bomb", () => upload(tech, [{ name: "bomb.png", bytes: pngBomb() }]), 400, "BAD_USER_INPUT", /50000x50000/],
      ["one bad among good", () => upload(tech, [{ name: "ok.png", bytes: good }, { name: "bad.jpg", bytes: truncated }]), 400, "BAD_USER_INPUT", /bad\.jpg/],
      ["same file twice", () => upload(tech, [{ name: "a.png", bytes: good }, { name: "b.png", bytes: good }]), 409, "CONFLICT", /same image/],
      ["wrong case id", () => upload(tech, [{ name: "ok.png", bytes: good }], "caseId=00000000-0000-4000-8000-000000000000"), 404, "NOT_FOUND", /Case not found/],
      ["garbage case id", () => upload(tech, [{ name: "ok.png", bytes: good }], "caseId=1%27%20OR%201=1"), 404, "NOT_FOUND", /Case/],
      ["wrong kind", () => upload(tech, [{ name: "ok.png", bytes: good }], `caseId=${caseId}&kind=VIDEO`), 400, "BAD_USER_INPUT", /kind/],
      ["wrong role", () => upload(hematologist, [{ name: "ok.png", bytes: good }]), 403, "FORBIDDEN", /role/i],
      ["no token", () => upload(null, [{ name: "ok.png", bytes: good }]), 401, "UNAUTHENTICATED", /Sign in/],
      ["no files", () => upload(tech, []), 400, "BAD_USER_INPUT", /./],
    ];
    const accepted = await upload(tech, [{ name: "padded.jpg", bytes: padded }]);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    for (const [name, run, status, code, message] of cases) {
      const before = await databaseFingerprint(api.prisma);
      const blobsBefore = await blobFiles();
      const r = await run();
      expect(r.status, name).toBe(status);
      expect(r.body.errors[0].extensions.code, name).toBe(code);
      expect(r.body.errors[0].message, name).toMatch(message);
      expect(await databaseFingerprint(api.prisma), name).toEqual(before);
      expect(await blobFiles(), name).toEqual(blobsBefore);
    }
    // A "crop" the size of a field is refused too.
    const before = await databaseFingerprint(api.prisma);
    const blobsBefore = await blobFiles();
    const crop = await upload(tech, [{ name: "huge-crop.jpg", bytes: await jpeg(2000, 1500, 9) }], `caseId=${caseId}&kind=CROP`);
    expect(crop.status).toBe(400);
    expect(crop.body.errors[0].message).toMatch(/crop/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    expect(await blobFiles()).toEqual(blobsBefore);
  });

  it("answers malformed multipart bodies with 400 at once (no hang, no crash) and stores nothing", async () => {
    const bodies = [
      // A malformed part header: busboy errors without closing.
      "--abc\r\nbroken header line\r\n\r\nx\r\n--abc--\r\n",
      // Cut off inside a file: the file stream errors too.
      '--abc\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\npartial',
      "not multipart at all",
    ];
    for (const body of bodies) {
      const before = await databaseFingerprint(api.prisma);
      const blobsBefore = await blobFiles();
      const res = await api.fetch(`/uploads/slides?caseId=${caseId}`, {
        method: "POST",
        body,
        token: tech,
        headers: { "content-type": "multipart/form-data; boundary=abc" },
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as any).errors[0].extensions.code, body).toBe("BAD_USER_INPUT");
      expect(await databaseFingerprint(api.prisma), body).toEqual(before);
      expect(await blobFiles(), body).toEqual(blobsBefore);
    }
  });

  it("a client that drops the connection mid-upload frees its upload slot", async () => {
    const { hostname, port } = new URL(api.url);
    const before = await databaseFingerprint(api.prisma);
    // More dropped uploads than there are slots (2): each must release its own.
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(Number(port), hostname, () => {
          socket.write(
            `POST /uploads/slides?caseId=${caseId} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${tech}\r\n` +
              `Content-Type: multipart/form-data; boundary=abc\r\nContent-Length: 100000\r\n\r\n` +
              `--abc\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\npartial bytes`,
          );
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 300);
        });
        socket.on("error", reject);
      });
    }
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // Before the fix the three dropped bodies held both slots: this upload waited 60 s for a 429.
    const started = Date.now();
    const ok = await upload(tech, [{ name: "after-drops.png", bytes: await png(64, 64, 9) }]);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 90_000);

  /** Another technician (loginAs gives the same one every time). */
  const anotherTech = async () => {
    const u = await api.createUser("TECHNICIAN");
    return api.login(u.user.login, u.password);
  };

  /** An upload whose body never finishes: it holds a slot, or waits for one, until destroyed. */
  const openUpload = (token: string) =>
    new Promise<net.Socket>((resolve, reject) => {
      const { hostname, port } = new URL(api.url);
      const socket = net.connect(Number(port), hostname, () => {
        socket.write(
          `POST /uploads/slides?caseId=${caseId} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\n` +
            `Content-Type: multipart/form-data; boundary=abc\r\nContent-Length: 100000\r\n\r\n` +
            `--abc\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\npartial bytes`,
        );
        resolve(socket);
      });
      socket.on("error", reject);
    });

  it("takes one upload at a time per user: a slow one cannot hold every slot", async () => {
    const slow = await openUpload(tech);
    await new Promise((r) => setTimeout(r, 400));
    const before = await databaseFingerprint(api.prisma);
    const second = await upload(tech, [{ name: "meanwhile.png", bytes: await png(64, 64, 12) }]);
    expect(second.status).toBe(429);
    expect(second.body.errors[0].message).toMatch(/previous upload is still being received/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // Another technician is not held up.
    const other = await upload(await anotherTech(), [{ name: "other-user.png", bytes: await png(64, 64, 13) }]);
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    slow.destroy();
    await new Promise((r) => setTimeout(r, 400));
    expect((await upload(tech, [{ name: "after-slow.png", bytes: await png(64, 64, 14) }])).status).toBe(201);
  }, 60_000);

  it("a client that gives up while waiting for an upload slot does not take the slot with it", async () => {
    // Four technicians (one upload at a time each): two hold the slots, two wait for them.
    const [a, b, c, d] = await Promise.all([0, 1, 2, 3].map(() => anotherTech()));
    const settle = () => new Promise((r) => setTimeout(r, 400));
    const holders = [await openUpload(a!), await openUpload(b!)];
    await settle();
    // Both slots taken: these two wait in the queue, then their users close the tab.
    const waiters = [await openUpload(c!), await openUpload(d!)];
    await settle();
    for (const s of waiters) s.destroy();
    await settle();
    // The holders go too: their slots pass to the two requests whose clients are already gone.
    for (const s of holders) s.destroy();
    await settle();
    // Before the fix both slots stayed with the departed waiters: this upload got a 429 after 60 s.
    const started = Date.now();
    const ok = await upload(tech, [{ name: "after-waiters.png", bytes: await png(64, 64, 11) }]);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 90_000);

  it("stores a field's size as displayed, turned by its EXIF orientation", async () => {
    // 64 x 32 pixels stored, EXIF orientation 6 (turned 90°): shown, and analysed, as 32 x 64.
    const turned = await sharp({ create: { width: 64, height: 32, channels: 3, background: { r: 10, g: 200, b: 90 } } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const r = await upload(tech, [{ name: "phone.jpg", bytes: turned }]);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.slides[0]).toMatchObject({ width: 32, height: 64 });
    // Its metadata removed, the orientation is written back: the stored image is shown turned too.
    expect((await sharp(await api.blobs.get(r.body.slides[0].imageSha256)).metadata()).autoOrient).toEqual({ width: 32, height: 64 });
  });

  describe("metadata that may name the patient", () => {
    const MRN = "MRN-4411";
    /** A busy field, the same for the same seed (sharp's noise is not). */
    const noisy = (seed: number) =>
      sharp(Buffer.from(Array.from({ length: 90 * 70 * 3 }, (_, i) => (i * 37 + seed * 101 + ((i * i) >> 7)) & 255)), { raw: { width: 90, height: 70, channels: 3 } });
    /** A scanner's JPEG: EXIF ImageDescription, XMP and a comment (COM) that name the patient. */
    const taggedJpeg = async (seed: number, mrn = MRN) => {
      const jpg = await noisy(seed)
        .jpeg()
        .withExif({ IFD0: { ImageDescription: mrn } })
        .withXmp(`<x:xmpmeta xmlns:x="adobe:ns:meta/">${mrn}</x:xmpmeta>`)
        .toBuffer();
      const comment = Buffer.concat([Buffer.from([0xff, 0xfe, 0, mrn.length + 2]), Buffer.from(mrn, "latin1")]);
      return Buffer.concat([jpg.subarray(0, 2), comment, jpg.subarray(2)]);
    };
    /** A PNG with a tEXt chunk that names the patient, right after IHDR. */
    const taggedPng = async (seed: number) => {
      const plain = await noisy(seed).png().toBuffer();
      const body = Buffer.from(`tEXtComment\0${MRN}`, "latin1");
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length - 4);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body) >>> 0);
      return Buffer.concat([plain.subarray(0, 33), head, body, crc, plain.subarray(33)]);
    };
    const newCase = async (accession: string) =>
      (await api.gqlOk(tech, `mutation($a: String!) { createCase(input: { accession: $a, patientRef: "MRN-4411" }) { id } }`, { a: accession })).createCase.id as string;

    it("stores and serves each image without it, the same pixels; its audit event keeps the received file's hash and size", async () => {
      const c = await newCase("UP-META");
      const sent = [await taggedJpeg(11), await taggedPng(12)];
      for (const bytes of sent) expect(bytes.includes(MRN)).toBe(true);
      const r = await upload(tech, [{ name: "scan.jpg", bytes: sent[0]! }, { name: "scan.png", bytes: sent[1]! }], `caseId=${c}`);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const admin = await api.loginAs("ADMIN");
      for (const [i, slide] of (r.body.slides as { id: string; imageSha256: string }[]).entries()) {
        const res = await api.fetch(`/blobs/${slide.imageSha256}`, { token: admin });
        expect(res.status).toBe(200);
        const served = Buffer.from(await res.arrayBuffer());
        expect(served.includes(MRN), `slide ${i}`).toBe(false);
        // Named by what is stored and served, by every reader alike.
        expect(sha256Hex(served)).toBe(slide.imageSha256);
        expect(await sharp(served).raw().toBuffer()).toEqual(await sharp(sent[i]!).raw().toBuffer());
        const row = await api.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } });
        expect(row.byteSize).toBe(served.length);
        const [event] = await api.prisma.auditEvent.findMany({ where: { action: "slide.upload", entityId: slide.id } });
        expect(event!.after).toMatchObject({ sha256: slide.imageSha256, byteSize: served.length, receivedSha256: sha256Hex(sent[i]!), receivedByteSize: sent[i]!.length });
        // The received file's hash covers the MRN: withheld with it from the same roles.
        const TRAIL = `{ auditTrail(first: 1, filter: { action: "slide.upload", entityId: "${slide.id}" }) { nodes { after } } }`;
        expect((await api.gqlOk(admin, TRAIL)).auditTrail.nodes[0].after).toMatchObject({ sha256: slide.imageSha256, receivedSha256: null });
        expect((await api.gqlOk(await api.loginAs("AUDITOR"), TRAIL)).auditTrail.nodes[0].after.receivedSha256).toBe(sha256Hex(sent[i]!));
      }
      // The same file again is a copy of the stored one; so is the same field under another
      // patient's number (the numbers were all that differed).
      const before = await databaseFingerprint(api.prisma);
      for (const [name, bytes] of [["again.jpg", sent[0]!], ["relabelled.jpg", await taggedJpeg(11, "MRN-9999")]] as const) {
        const again = await upload(tech, [{ name, bytes }], `caseId=${c}`);
        expect(again.status, name).toBe(409);
        expect(again.body.errors[0].message).toMatch(new RegExp(`${name.replace(".", "\\.")} was already uploaded to this case`));
      }
      expect(await databaseFingerprint(api.prisma)).toEqual(before);
    });

    it("refuses a file whose metadata cannot be walked, storing nothing", async () => {
      const jpg = await noisy(13).jpeg().toBuffer();
      // After the last scan, an APP1 segment that says it runs past the end: the decoder never
      // reads it (the pixels decode whole), but its metadata cannot be walked to remove it.
      const overlong = Buffer.concat([Buffer.from([0xff, 0xe1, 0xff, 0xf0]), Buffer.from(`Exif\0\0${MRN}`, "latin1")]);
      const bytes = Buffer.concat([jpg.subarray(0, -2), overlong]);
      const before = await databaseFingerprint(api.prisma);
      const blobsBefore = await blobFiles();
      const r = await upload(tech, [{ name: "odd.jpg", bytes }]);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
      expect(r.body.errors[0].message).toMatch(/^odd\.jpg: the file's structure cannot be read to remove its metadata \(a segment runs past the end of the file\); nothing was stored$/);
      expect(await databaseFingerprint(api.prisma)).toEqual(before);
      expect(await blobFiles()).toEqual(blobsBefore);
    });

    it("a slide stored before (named by the file as received) is still the same bytes: a copy, or analysed again", async () => {
      const c = await newCase("UP-META-OLD");
      const techId = (await api.prisma.user.findFirstOrThrow({ where: { role: "TECHNICIAN" }, orderBy: { createdAt: "asc" } })).id;
      const [live, failed] = [await taggedJpeg(14), await taggedJpeg(15)];
      const stored = async (bytes: Buffer, analysisStatus: "DONE" | "FAILED") => {
        await api.blobs.put(bytes);
        return api.prisma.slide.create({
          data: { caseId: c, imageSha256: sha256Hex(bytes), mimeType: "image/jpeg", byteSize: bytes.length, width: 90, height: 70, analysisStatus, uploadedById: techId },
        });
      };
      const liveSlide = await stored(live, "DONE");
      const failedSlide = await stored(failed, "FAILED");
      const copy = await upload(tech, [{ name: "old.jpg", bytes: live }], `caseId=${c}`);
      expect(copy.status, JSON.stringify(copy.body)).toBe(409);
      expect(copy.body.errors[0].message).toMatch(/old\.jpg was already uploaded to this case/);
      expect(copy.body.errors[0].extensions.slideId).toBe(liveSlide.id);
      const retried = await upload(tech, [{ name: "failed.jpg", bytes: failed }], `caseId=${c}`);
      expect(retried.status, JSON.stringify(retried.body)).toBe(201);
      expect(retried.body.slides.map((s: { id: string }) => s.id)).toEqual([failedSlide.id]);
      expect(await api.prisma.slide.findUniqueOrThrow({ where: { id: failedSlide.id } })).toMatchObject({ analysisStatus: "PENDING", imageSha256: sha256Hex(failed) });
    });
  });

  it("detects a duplicate of an image already in the case by its hash", async () => {
    const img = await png(50, 60, 42);
    expect((await upload(tech, [{ name: "x.png", bytes: img }])).status).toBe(201);
    const before = await databaseFingerprint(api.prisma);
    const again = await upload(tech, [{ name: "renamed.png", bytes: img }]);
    expect(again.status).toBe(409);
    expect(again.body.errors[0].extensions.code).toBe("CONFLICT");
    expect(again.body.errors[0].message).toMatch(/already uploaded/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("detects the same field saved again with other bytes (metadata, compression) by its pixels", async () => {
    const img = await png(70, 40, 17);
    // The same pixels, other bytes: another compression level, and a JPEG-free lossless copy with metadata.
    const recompressed = await sharp(img).png({ compressionLevel: 1 }).toBuffer();
    const withMetadata = await sharp(img).withMetadata({ density: 300 }).png({ compressionLevel: 9 }).toBuffer();
    expect(sha256Hex(recompressed)).not.toBe(sha256Hex(img));
    expect(sha256Hex(withMetadata)).not.toBe(sha256Hex(img));
    // Two copies in one upload: refused as one image.
    const both = await upload(tech, [{ name: "a.png", bytes: img }, { name: "b.png", bytes: recompressed }]);
    expect(both.status).toBe(409);
    expect(both.body.errors[0].message).toMatch(/b\.png is the same image as a\.png/);
    expect((await upload(tech, [{ name: "field.png", bytes: img }])).status).toBe(201);
    const before = await databaseFingerprint(api.prisma);
    for (const [name, bytes] of [["resaved.png", recompressed], ["exported.png", withMetadata]] as const) {
      const again = await upload(tech, [{ name, bytes }]);
      expect(again.status, name).toBe(409);
      expect(again.body.errors[0].message).toMatch(new RegExp(`${name.replace(".", "\\.")} shows the same pixels as an image already uploaded to this case`));
    }
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // An alpha channel and an embedded profile change bytes, not the pixels the model sees.
    const rgba = await sharp(img).ensureAlpha().withIccProfile("srgb").png().toBuffer();
    expect((await upload(tech, [{ name: "rgba.png", bytes: rgba }])).body.errors[0].message).toMatch(/rgba\.png shows the same pixels/);
    // Other pixels are another field.
    expect((await upload(tech, [{ name: "other.png", bytes: await png(70, 40, 18) }])).status).toBe(201);
  });

  it("takes a re-export of a field whose analysis failed: the failed slide contributes no cells", async () => {
    const img = await png(64, 48, 23);
    const first = await upload(tech, [{ name: "first.png", bytes: img }]);
    expect(first.status).toBe(201);
    const slideId = first.body.slides[0].id;
    await api.prisma.$transaction((tx) => failSlide(tx, slideId, "analysis failed (internal error)", ["PENDING", "RUNNING"]));
    const reexported = await sharp(img).png({ compressionLevel: 2 }).toBuffer();
    const again = await upload(tech, [{ name: "reexported.png", bytes: reexported }]);
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body.slides[0].id).not.toBe(slideId);
  });

  it("an image whose analysis failed is analysed again when uploaded again: the same slide, its job queued afresh, audited", async () => {
    const img = await png(52, 58, 43);
    const first = await upload(tech, [{ name: "x.png", bytes: img }]);
    expect(first.status).toBe(201);
    const slideId = first.body.slides[0].id as string;
    // Its last attempt failed (a disk hiccup, a worker killed three times in a rolling restart).
    // A last failure sets runAfter to its backoff, ahead of now.
    await api.prisma.$executeRaw`UPDATE "job" SET "status" = 'FAILED', "attempts" = 3, "error" = 'disk hiccup', "runAfter" = CURRENT_TIMESTAMP + interval '5 minutes' WHERE "dedupeKey" = ${`analyzeSlide:${slideId}`}`;
    await api.prisma.$transaction((tx) => failSlide(tx, slideId, "analysis failed (internal error)", ["PENDING", "RUNNING"]));
    const slidesBefore = await api.prisma.slide.count({ where: { caseId } });

    const again = await upload(tech, [{ name: "x-again.png", bytes: img }]);
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body.slides.map((s: { id: string }) => s.id)).toEqual([slideId]);
    expect(await api.prisma.slide.count({ where: { caseId } })).toBe(slidesBefore);
    expect(await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } })).toMatchObject({ analysisStatus: "PENDING", analysisError: null });
    expect(await api.prisma.job.findUniqueOrThrow({ where: { dedupeKey: `analyzeSlide:${slideId}` } })).toMatchObject({ status: "QUEUED", attempts: 0, error: null });
    // Runnable now, not after the failed attempt's backoff.
    const [{ runnable }] = await api.prisma.$queryRaw<[{ runnable: boolean }]>`SELECT "runAfter" <= CURRENT_TIMESTAMP AS runnable FROM "job" WHERE "dedupeKey" = ${`analyzeSlide:${slideId}`}`;
    expect(runnable).toBe(true);
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: caseId } })).status).toBe("ANALYZING");
    const audit = await api.prisma.auditEvent.findMany({ where: { action: "slide.reanalyze", entityId: slideId } });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.before).toMatchObject({ analysisStatus: "FAILED", analysisError: "analysis failed (internal error)" });

    // Queued again, it is a duplicate like any other: refused, nothing changed.
    const before = await databaseFingerprint(api.prisma);
    expect((await upload(tech, [{ name: "x-third.png", bytes: img }])).status).toBe(409);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);

    // A job that failed for good while the slide row still says RUNNING (the worker was killed on
    // its last attempt; the reconciler has not run yet) is failed too: the page already says so.
    const killed = await png(54, 60, 44);
    const k = (await upload(tech, [{ name: "killed.png", bytes: killed }])).body.slides[0].id as string;
    await api.prisma.job.update({ where: { dedupeKey: `analyzeSlide:${k}` }, data: { status: "FAILED", attempts: 3, error: "lease expired" } });
    await api.prisma.slide.update({ where: { id: k }, data: { analysisStatus: "RUNNING" } });
    const retried = await upload(tech, [{ name: "killed-again.png", bytes: killed }]);
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect(await api.prisma.job.findUniqueOrThrow({ where: { dedupeKey: `analyzeSlide:${k}` } })).toMatchObject({ status: "QUEUED", attempts: 0 });
  });

  it("an image whose slide shows FAILED while its worker has not yet recorded the job's failure is refused, nothing changed", async () => {
    const img = await png(56, 62, 45);
    const slideId = (await upload(tech, [{ name: "finishing.png", bytes: img }])).body.slides[0].id as string;
    // The last attempt's worker has committed the slide's failure, and its failJob is a moment behind.
    await api.prisma.job.update({ where: { dedupeKey: `analyzeSlide:${slideId}` }, data: { status: "RUNNING", attempts: 3, lockedBy: "w-last" } });
    await api.prisma.$transaction((tx) => failSlide(tx, slideId, "analysis failed (internal error)", ["PENDING", "RUNNING"]));
    const before = await databaseFingerprint(api.prisma);
    const again = await upload(tech, [{ name: "finishing-again.png", bytes: img }]);
    expect(again.status).toBe(409);
    expect(again.body.errors[0].message).toMatch(/finishing-again\.png is still finishing: upload it again in a minute; nothing was stored/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("an analysed image whose job the reaper failed afterwards is no failure: a copy or a re-export is refused, nothing changed", async () => {
    const img = await png(58, 64, 46);
    const slideId = (await upload(tech, [{ name: "analysed.png", bytes: img }])).body.slides[0].id as string;
    // markDone committed on the last attempt, then its worker died (or lost its lease) before
    // completing the job: the reaper marks the job FAILED while the slide is DONE.
    await api.prisma.slide.update({ where: { id: slideId }, data: { analysisStatus: "DONE" } });
    await api.prisma.job.update({ where: { dedupeKey: `analyzeSlide:${slideId}` }, data: { status: "FAILED", attempts: 3, error: "lease expired" } });
    const before = await databaseFingerprint(api.prisma);

    const copy = await upload(tech, [{ name: "analysed-again.png", bytes: img }]);
    expect(copy.status, JSON.stringify(copy.body)).toBe(409);
    expect(copy.body.errors[0].message).toMatch(/analysed-again\.png was already uploaded to this case/);
    const reexported = await sharp(img).png({ compressionLevel: 1 }).toBuffer();
    expect(sha256Hex(reexported)).not.toBe(sha256Hex(img));
    const resaved = await upload(tech, [{ name: "analysed-resaved.png", bytes: reexported }]);
    expect(resaved.status, JSON.stringify(resaved.body)).toBe(409);
    expect(resaved.body.errors[0].message).toMatch(/analysed-resaved\.png shows the same pixels as an image already uploaded to this case/);

    expect(await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } })).toMatchObject({ analysisStatus: "DONE" });
    expect(await api.prisma.auditEvent.count({ where: { action: "slide.reanalyze", entityId: slideId } })).toBe(0);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("an upload of the same image to another case repairs a stored copy damaged on disk", async () => {
    const img = await png(40, 44, 77);
    expect((await upload(tech, [{ name: "first.png", bytes: img }])).status).toBe(201);
    const sha = sha256Hex(img);
    await writeFile(join(api.blobs.root, sha.slice(0, 2), sha), "damaged");
    const other = (await api.gqlOk(tech, `mutation { createCase(input: { accession: "UP-REPAIR", patientRef: "MRN-78" }) { id } }`)).createCase.id;
    expect((await upload(tech, [{ name: "again.png", bytes: img }], `caseId=${other}`)).status).toBe(201);
    expect(await api.blobs.get(sha)).toEqual(img);
  });

  it("refuses an upload larger than the byte limit, per file and for all files together", async () => {
    const small = await createTestApi({ limits: { maxUploadBytes: 1000, maxUploadTotalBytes: 2500 } });
    try {
      const t = await small.loginAs("TECHNICIAN");
      const c = await small.gqlOk(t, `mutation { createCase(input: { accession: "UP-2" }) { id } }`);
      const form = new FormData();
      const noisy = await sharp({ create: { width: 300, height: 300, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 40 } } }).jpeg().toBuffer();
      expect(noisy.length).toBeGreaterThan(1000);
      form.append("files", new Blob([new Uint8Array(noisy)]), "big.jpg");
      const before = await databaseFingerprint(small.prisma);
      const res = await small.fetch(`/uploads/slides?caseId=${c.createCase.id}`, { method: "POST", body: form, token: t });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).errors[0].message).toMatch(/larger than 1000 bytes/);
      expect(await databaseFingerprint(small.prisma)).toEqual(before);

      // Three valid files of ~900 bytes each pass the per-file limit, not the total.
      const pngs = await Promise.all([1, 2, 3].map((seed) => sharp({ create: { width: 16, height: 14 + seed, channels: 3, background: { r: seed * 40, g: 90, b: 200 } } }).png({ compressionLevel: 0 }).toBuffer()));
      expect(pngs.every((b) => b.length < 1000)).toBe(true);
      expect(pngs.reduce((n, b) => n + b.length, 0)).toBeGreaterThan(2500);
      const three = new FormData();
      pngs.forEach((b, i) => three.append("files", new Blob([new Uint8Array(b)]), `f${i}.png`));
      const tooMuch = await small.fetch(`/uploads/slides?caseId=${c.createCase.id}`, { method: "POST", body: three, token: t });
      expect(tooMuch.status).toBe(400);
      expect(((await tooMuch.json()) as any).errors[0].message).toMatch(/larger than 2500 bytes in all/);
      expect(await databaseFingerprint(small.prisma)).toEqual(before);
      // Two of them fit.
      const two = new FormData();
      pngs.slice(0, 2).forEach((b, i) => two.append("files", new Blob([new Uint8Array(b)]), `f${i}.png`));
      expect((await small.fetch(`/uploads/slides?caseId=${c.createCase.id}`, { method: "POST", body: two, token: t })).status).toBe(201);
    } finally {
      await small.close();
    }
  });
});

// Last: it adds a case and a queued analysis the tests above do not expect.
describe("slide uploads: the technician's entries", () => {
  it("records what the technician typed (stain, magnification) and the image's type in the upload's event, and the database keeps them as uploaded", async () => {
    const own = (await api.gqlOk(tech, `mutation { createCase(input: { accession: "UP-ENTRIES" }) { id } }`)).createCase;
    const r = await upload(tech, [{ name: "stained.png", bytes: await png(200, 150) }], `caseId=${own.id}`, { stain: "Wright-Giemsa", magnification: "100" });
    expect(r.status).toBe(201);
    const slide = await api.prisma.slide.findUniqueOrThrow({ where: { id: r.body.slides[0].id } });
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "slide.upload", entityId: slide.id } });
    expect(event.after).toMatchObject({ stain: "Wright-Giemsa", magnification: 100, mimeType: "image/png", pixelSha256: slide.pixelSha256 });
    // Not to be changed afterwards, by any writer: what the trail says stays what the slide says.
    await expect(api.prisma.slide.update({ where: { id: slide.id }, data: { stain: "May-Grunwald" } })).rejects.toThrow(/identity/);
    await expect(api.prisma.slide.update({ where: { id: slide.id }, data: { magnification: 50 } })).rejects.toThrow(/identity/);
  });
});
