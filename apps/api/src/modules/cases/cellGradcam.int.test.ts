// GET /cells/:cellId/gradcam on real PostgreSQL with a tiny real model: a PNG overlay made by the
// model version of the cell's latest prediction, computed once per (cell, model version), and
// clear refusals (400 malformed id, 404 unknown cell / no prediction, 401 without a valid token).
import { randomUUID } from "node:crypto";
import type { ModelVersion, Role } from "@rcmnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_ROLES } from "../../auth/roles.ts";
import { synthCellCrops } from "../../jobs/model/modelRuntime.ts";
import { registerTestModel } from "../../jobs/testing/registerTestModel.ts";
import { tinyModelDir } from "../../jobs/testing/tinyModel.ts";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { seedReviewableCase } from "../../testing/fixtures.ts";
import { gradcamCache, gradcamSlots } from "./cellGradcam.ts";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let api: TestApi;
let tiny: ModelVersion;
let explained: string;
let unpredicted: string;
let missingCrop: string;
let brokenModel: string;
let cropSha: string;
let slideId: string;

beforeAll(async () => {
  api = await createTestApi({ limits: { gradcamPerUserPerMinute: 3, gradcamWaitMs: 300 } });
  const tech = await api.createUser("TECHNICIAN");
  const { cellIds } = await seedReviewableCase(api.prisma, { createdById: tech.user.id, cells: 2 });
  let seeded: string;
  [seeded, missingCrop] = cellIds as [string, string];
  // A candidate: the fixture's model is the champion already (one at a time), and the overlay is
  // made by the latest prediction's model, whatever its status.
  tiny = await registerTestModel(api.prisma, await tinyModelDir(1), "CANDIDATE", "gradcam-test");
  const [crop] = await synthCellCrops({ perClass: 1, size: 64, seed: 7, classes: ["monocyte"] });
  const sha = await api.blobs.put(crop!.bytes);
  cropSha = sha;
  // A cell's crop cannot be edited (database guard): the explained cell is a new one with a real
  // crop, predicted first by the fixture model like the seeded cells.
  const base = await api.prisma.cell.findUniqueOrThrow({ where: { id: seeded }, include: { predictions: true } });
  explained = (await api.prisma.cell.create({ data: { slideId: base.slideId, x: 400, y: 400, width: 24, height: 24, cropSha256: sha } })).id;
  const { id: _id, cellId: _cell, createdAt: _at, probabilities, ...fixturePrediction } = base.predictions[0]!;
  await api.prisma.prediction.create({ data: { ...fixturePrediction, probabilities: probabilities ?? {}, cellId: explained } });
  // The tiny model's prediction is the latest one (the fixture model's stays as history).
  await api.prisma.prediction.create({
    data: {
      cellId: explained,
      modelVersionId: tiny.id,
      label: tiny.labels[0]!,
      probabilities: {},
      confidence: 0.9,
      abstained: false,
      createdAt: new Date(Date.now() + 1000),
    },
  });
  // Predictions are append-only: a cell without one is a new cell. missingCrop keeps its fixture
  // prediction but its crop was never stored.
  const cell = await api.prisma.cell.findUniqueOrThrow({ where: { id: explained } });
  slideId = cell.slideId;
  unpredicted = (
    await api.prisma.cell.create({
      data: { slideId: cell.slideId, x: 500, y: 500, width: 24, height: 24, cropSha256: "ab".repeat(32) },
    })
  ).id;
  // Predicted by the fixture model, whose directory does not exist: the overlay cannot be made.
  const fixture = await api.prisma.prediction.findFirstOrThrow({ where: { cellId: missingCrop } });
  brokenModel = (
    await api.prisma.cell.create({ data: { slideId: cell.slideId, x: 600, y: 600, width: 24, height: 24, cropSha256: sha } })
  ).id;
  await api.prisma.prediction.create({
    data: { cellId: brokenModel, modelVersionId: fixture.modelVersionId, label: "car_t", probabilities: {}, confidence: 0.9, abstained: false },
  });
}, 120_000);
afterAll(async () => {
  await api?.close();
});

const get = (cellId: string, token: string | null) => api.fetch(`/cells/${cellId}/gradcam`, { token });

describe("GET /cells/:cellId/gradcam", () => {
  it("returns a PNG overlay from the latest prediction's model version, computed once", async () => {
    const token = await api.loginAs("HEMATOLOGIST");
    const before = gradcamCache.computed;
    const first = await get(explained, token);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("image/png");
    expect(first.headers.get("x-rcmnet-model-version")).toBe(tiny.id);
    const bytes = new Uint8Array(await first.arrayBuffer());
    expect([...bytes.subarray(0, 8)]).toEqual(PNG_MAGIC);
    // Flipping G again: served from the cache, same bytes, no second model run.
    const second = await get(explained, token);
    expect(second.status).toBe(200);
    expect(Buffer.from(await second.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    expect(gradcamCache.computed - before).toBe(1);
  });

  it("is readable by every role that may read cases", async () => {
    for (const role of ALL_ROLES as Role[]) {
      const res = await get(explained, await api.loginAs(role));
      expect(res.status, role).toBe(200);
      await res.arrayBuffer();
    }
  });

  it("refuses without a valid identity (401), and says nothing about the cell", async () => {
    const anonymous = await get(explained, null);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe(
      "UNAUTHENTICATED",
    );
    expect((await get(explained, "not.a.jwt")).status).toBe(401);
    const token = await api.loginAs("HEMATOLOGIST");
    const [h, p] = token.split(".");
    expect((await get(explained, `${h}.${p}.${"A".repeat(43)}`)).status).toBe(401);
    // A disabled account's older token is revoked at once.
    const victim = await api.createUser("AUDITOR");
    const victimToken = await api.login(victim.user.login, victim.password);
    await api.prisma.user.update({ where: { id: victim.user.id }, data: { disabled: true } });
    expect((await get(explained, victimToken)).status).toBe(401);
    // Refused before the cell is looked up: an unknown cell answers the same.
    expect((await get(randomUUID(), null)).status).toBe(401);
  });

  it("answers 400 for a malformed id and 404 for an unknown cell, a cell without prediction or without its crop", async () => {
    const token = await api.loginAs("TECHNICIAN");
    const bad = await get("not-a-uuid", token);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe("BAD_USER_INPUT");
    for (const id of [randomUUID(), unpredicted, missingCrop]) {
      const res = await get(id, token);
      expect(res.status, id).toBe(404);
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe("NOT_FOUND");
      expect(JSON.stringify(body)).not.toMatch(/at .*\.ts|stack/i);
    }
  });

  it("answers 503 without internals when the model version cannot be loaded", async () => {
    const res = await get(brokenModel, await api.loginAs("HEMATOLOGIST"));
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).toMatch(/could not explain this cell/);
    expect(text).not.toMatch(/nonexistent|model-card|stack|\.ts:/);
  });

  it("limits the overlays a user has computed per minute (429), while cached ones stay free", async () => {
    const cells: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = (await api.prisma.cell.create({ data: { slideId, x: 700 + i * 30, y: 700, width: 24, height: 24, cropSha256: cropSha } })).id;
      await api.prisma.prediction.create({ data: { cellId: id, modelVersionId: tiny.id, label: tiny.labels[0]!, probabilities: {}, confidence: 0.9, abstained: false } });
      cells.push(id);
    }
    const walker = await api.createUser("AUDITOR");
    const token = await api.login(walker.user.login, walker.password);
    for (const id of cells.slice(0, 3)) expect((await get(id, token)).status).toBe(200);
    const refused = await get(cells[3]!, token);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { errors: { message: string; extensions: { code: string } }[] }).errors[0]).toMatchObject({
      extensions: { code: "RATE_LIMITED" },
      message: expect.stringMatching(/Too many heat maps computed/),
    });
    expect((await get(cells[0]!, token)).status).toBe(200);
    // Another user is not affected.
    expect((await get(cells[3]!, await api.loginAs("HEMATOLOGIST"))).status).toBe(200);
  });

  it("runs the model for two overlays at a time in the process, all users together: busy (429) past the wait, cached ones still served", async () => {
    const cells: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = (await api.prisma.cell.create({ data: { slideId, x: 700 + i * 30, y: 800, width: 24, height: 24, cropSha256: cropSha } })).id;
      await api.prisma.prediction.create({ data: { cellId: id, modelVersionId: tiny.id, label: tiny.labels[0]!, probabilities: {}, confidence: 0.9, abstained: false } });
      cells.push(id);
    }
    const reader = await api.createUser("HEMATOLOGIST");
    const token = await api.login(reader.user.login, reader.password);
    expect((await get(cells[0]!, token)).status).toBe(200);
    // Other users' overlays hold both slots.
    const held = await Promise.all([gradcamSlots.acquire(1_000), gradcamSlots.acquire(1_000)]);
    try {
      const busy = await get(cells[1]!, token);
      expect(busy.status).toBe(429);
      expect(((await busy.json()) as { errors: { message: string; extensions: { code: string } }[] }).errors[0]).toMatchObject({
        extensions: { code: "RATE_LIMITED" },
        message: expect.stringMatching(/busy computing other heat maps; try again/),
      });
      // A cached overlay runs no model: served meanwhile.
      expect((await get(cells[0]!, token)).status).toBe(200);
    } finally {
      for (const release of held) release();
    }
    // The refusal was not remembered: once a slot is free, the overlay is computed.
    const retried = await get(cells[1]!, token);
    expect(retried.status).toBe(200);
    expect(retried.headers.get("content-type")).toBe("image/png");
    // The busy refusal used none of the user's 3 computations a minute: the third is still theirs.
    expect((await get(cells[2]!, token)).status).toBe(200);
  });
});
