// RCMNET_MODEL_DIR at start on a real PostgreSQL: a real install (prepareInstall) makes its model
// the first champion only when registerModel would accept it and the registry has not turned it
// away (rejected, pending, withdrawn, retired), audited as the operator's; a champion serving is
// never replaced; weights already registered get no second model.register. The demo seed
// (ensureChampion) still installs its own model as before.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PrismaClient } from "@rcmnet/db";
import { verifyAuditChain } from "@rcmnet/db";
import { createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { inspectModelDir } from "../jobs/model/modelRuntime.ts";
import type { ModelRuntime } from "../jobs/model/runtime.ts";
import { registerModel } from "../modules/models/registerModel.ts";
import { DEMO_RECIPE, ensureChampion } from "./demoChampion.ts";
import { prepareInstall } from "./install.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "rcmnet-modeldir-test-"));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

let db: TestDatabase;
let dataDir: string;
let lines: string[];
beforeEach(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(root, "data-"));
  await mkdir(join(dataDir, "models"), { recursive: true });
  lines = [];
});
afterEach(async () => {
  await db?.drop();
});

async function writeModelDir(dir: string, options: { name?: string; cropContext?: number; training?: Record<string, unknown> } = {}) {
  const weights = randomBytes(256);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "weights.bin"), weights);
  const card = {
    format: "rcmnet-model-card/1",
    name: options.name ?? "rcmnet-site",
    architecture: "rcmnet",
    labels: ["car_t", "lymphocyte", "neutrophil"],
    inputSize: 64,
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    ...(options.cropContext !== undefined && { cropContext: options.cropContext }),
    ...(options.training && { training: options.training, calibration: { temperature: 1, fittedOn: "none" } }),
    weightsSha256: createHash("sha256").update(weights).digest("hex"),
  };
  await writeFile(join(dir, "model-card.json"), JSON.stringify(card));
  await writeFile(join(dir, "topology.json"), JSON.stringify({ format: "rcmnet-topology/1", config: {} }));
  return dir;
}

const ADMIN = { login: "chief", password: "a long enough passphrase" };
const start = (modelDir?: string) =>
  prepareInstall({ databaseUrl: db.url, dataDir, admin: ADMIN, log: (l) => lines.push(l), ...(modelDir && { modelDir }) });

async function state(prisma: PrismaClient) {
  return {
    champions: (await prisma.modelVersion.findMany({ where: { status: "CHAMPION" }, select: { id: true } })).map((v) => v.id),
    versions: await prisma.modelVersion.count(),
    audit: await prisma.auditEvent.count(),
  };
}

/** A data scientist registers the folder through the API's own function (one model.register). */
async function registeredBySomeone(folder: string) {
  const ds = await db.prisma.user.create({ data: { login: "ds", displayName: "DS", passwordHash: "x", role: "DATA_SCIENTIST" } });
  const version = await registerModel({ prisma: db.prisma, env: { dataDir } } as never, { id: ds.id, login: ds.login, role: ds.role } as never, folder);
  return { ds, version };
}

describe("prepareInstall with RCMNET_MODEL_DIR (a real install)", () => {
  it("installs an unregistered model as the first champion, audited as the operator's, once", async () => {
    const folder = await writeModelDir(join(root, `site-model-${Date.now()}`));
    await start(folder);
    const champion = await db.prisma.modelVersion.findFirstOrThrow({ where: { status: "CHAMPION" } });
    expect(champion.artifactPath).toBe(folder);
    const events = await db.prisma.auditEvent.findMany({ where: { entityId: champion.id }, orderBy: { seq: "asc" } });
    expect(events.map((e) => e.action)).toEqual(["model.register", "model.championChanged"]);
    expect(events[0]!.after).toMatchObject({ source: "RCMNET_MODEL_DIR at start", artifactPath: folder });
    const reason = events[1]!.reason ?? "";
    expect(reason).toMatch(/^installed at start from RCMNET_MODEL_DIR \(folder "site-model-\d+"\) by the operator of host /);
    expect(reason).not.toMatch(/demo/);
    expect(lines.at(-1)).toMatch(/^champion: rcmnet-site sha-\w+, installed from RCMNET_MODEL_DIR .*registered now/);

    // Restarted with the same folder: nothing changes, and the log says so.
    const before = await state(db.prisma);
    await start(folder);
    expect(await state(db.prisma)).toEqual(before);
    expect(lines.at(-1)).toMatch(/^champion: rcmnet-site .* \(the model in RCMNET_MODEL_DIR; unchanged\)$/);

    // Restarted with another model's folder: the champion stays, only a promotion replaces it.
    const other = await writeModelDir(join(root, `other-model-${Date.now()}`), { name: "other" });
    await start(other);
    expect(await state(db.prisma)).toEqual(before);
    expect(lines.at(-1)).toMatch(/^RCMNET_MODEL_DIR \(.*other-model-\d+\) not used: rcmnet-site .* is the champion and stays so\. A champion is replaced only by a promotion approved in the dashboard/);
    expect((await verifyAuditChain(db.prisma)).ok).toBe(true);
  });

  it("refuses to start on a candidate whose promotion was rejected (or awaits its decision), storing nothing", async () => {
    await start();
    const folder = await writeModelDir(join(dataDir, "models", "candidate-x"));
    const { version } = await registeredBySomeone("candidate-x");
    const admin = await db.prisma.user.findUniqueOrThrow({ where: { login: "chief" } });
    const ds = await db.prisma.user.findUniqueOrThrow({ where: { login: "ds" } });
    const proposal = { modelVersionId: version.id, kind: "PROMOTE" as const, reason: "better", proposedById: ds.id };
    await db.prisma.modelPromotion.create({
      data: { ...proposal, state: "REJECTED", decidedById: admin.id, decidedAt: new Date(), decisionNote: "too few TEST cells" },
    });
    const before = await state(db.prisma);
    await expect(start(folder)).rejects.toThrow(
      /^The model in RCMNET_MODEL_DIR \(.*candidate-x\) is not made champion: rcmnet-site sha-\w+, registered with these weights, had its promotion rejected on \d{4}-\d\d-\d\d \("too few TEST cells"\): propose it through the dashboard/,
    );
    expect(await state(db.prisma)).toEqual(before);

    // Proposed again and not decided yet: the admin decides, not a restart.
    await db.prisma.modelPromotion.create({ data: proposal });
    const pending = await state(db.prisma);
    await expect(start(folder)).rejects.toThrow(/has a promotion proposal awaiting an admin's decision/);
    expect(await state(db.prisma)).toEqual(pending);
  });

  it("refuses a model withdrawn by a rollback or retired as champion", async () => {
    await start();
    const admin = await db.prisma.user.findUniqueOrThrow({ where: { login: "chief" } });
    const ds = await db.prisma.user.create({ data: { login: "ds", displayName: "DS", passwordHash: "x", role: "DATA_SCIENTIST" } });
    const cases: [string, "ROLLBACK" | "PROMOTE" | null, RegExp][] = [
      ["rolled-back", "ROLLBACK", /was withdrawn by a rollback approved on \d{4}-\d\d-\d\d: to serve it again, propose a rollback/],
      ["replaced", "PROMOTE", /was retired as champion \(replaced by successor-replaced 1 on \d{4}-\d\d-\d\d\)/],
      ["archived", null, /was retired as champion \(replaced\)/],
    ];
    for (const [name, kind, message] of cases) {
      const folder = await writeModelDir(join(root, `${name}-${Date.now()}`), { name });
      const info = await inspectModelDir(folder);
      const archived = await db.prisma.modelVersion.create({
        data: {
          name, version: "1", labels: info.labels, inputSize: 64, normalization: {}, architecture: {}, metrics: {},
          artifactPath: folder, artifactSha256: info.weightsSha256, status: "ARCHIVED",
        },
      });
      if (kind) {
        const successor = await db.prisma.modelVersion.create({
          data: {
            name: `successor-${name}`, version: "1", labels: info.labels, inputSize: 64, normalization: {}, architecture: {}, metrics: {},
            artifactPath: `successor-${name}`, artifactSha256: randomBytes(32).toString("hex"), status: "ARCHIVED",
          },
        });
        await db.prisma.modelPromotion.create({
          data: {
            modelVersionId: successor.id, kind, state: "APPROVED", reason: "r", proposedById: ds.id,
            replacesChampionId: archived.id, decidedById: admin.id, decidedAt: new Date(),
          },
        });
      }
      const before = await state(db.prisma);
      await expect(start(folder), name).rejects.toThrow(message);
      expect(await state(db.prisma), name).toEqual(before);
    }
  });

  it("applies registerModel's checks: an unfinished run's model, other crop framing, a training-run folder are refused", async () => {
    await start();
    const midRun = await writeModelDir(join(root, `mid-run-${Date.now()}`), { training: { epochs: 30, epochsRun: 3, complete: false } });
    const framed = await writeModelDir(join(root, `framed-${Date.now()}`), { name: "framed", cropContext: 2 });
    const run = await writeModelDir(join(dataDir, "models", "runs", "00000000-0000-4000-8000-00000000cafe"), { name: "a-run" });
    const cases: [string, RegExp][] = [
      [midRun, /is not made champion: This model is from an unfinished training run \(saved at epoch 3 of 30, not calibrated\)/],
      [framed, /is not made champion: This model was trained on crops framed at 2x the cell box/],
      [run, /is not made champion: Training-run folders are registered by their run when it succeeds/],
    ];
    for (const [folder, message] of cases) {
      const before = await state(db.prisma);
      await expect(start(folder), folder).rejects.toThrow(message);
      expect(await state(db.prisma), folder).toEqual(before);
    }
  });

  it("makes an already registered candidate the first champion without a second model.register", async () => {
    await start();
    const folder = await writeModelDir(join(dataDir, "models", "registered-y"));
    const { version } = await registeredBySomeone("registered-y");
    await start(folder);
    expect((await db.prisma.modelVersion.findUniqueOrThrow({ where: { id: version.id } })).status).toBe("CHAMPION");
    const events = await db.prisma.auditEvent.findMany({ where: { entityId: version.id }, orderBy: { seq: "asc" } });
    expect(events.map((e) => e.action)).toEqual(["model.register", "model.championChanged"]);
    expect(events[0]!.actorLogin).toBe("ds");
    expect(events[1]!.reason).toMatch(/^installed at start from RCMNET_MODEL_DIR \(folder "registered-y"\)/);
    expect(lines.at(-1)).toMatch(/already registered as a candidate/);
  });
});

describe("ensureChampion (the demo seed)", () => {
  const runtime = { inspectModelDir } as unknown as ModelRuntime;
  const demo = (extra: { cacheDir?: string; modelDir?: string }) =>
    ensureChampion({ prisma: db.prisma, runtime, dataDir, recipe: DEMO_RECIPE, say: (l) => lines.push(l), progressBar: () => {}, ...extra });

  it("still installs its cached model as champion, reason 'demo seed: initial champion', once", async () => {
    const cacheDir = await writeModelDir(join(dataDir, "models", "demo-champion"), { name: "rcmnet-demo" });
    const champion = await demo({ cacheDir });
    expect(champion).toMatchObject({ name: "rcmnet-demo", status: "CHAMPION", artifactPath: "demo-champion" });
    const events = await db.prisma.auditEvent.findMany({ where: { entityId: champion.id }, orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.action, e.actorLogin])).toEqual([["model.register", "system"], ["model.championChanged", "system"]]);
    expect(events[0]!.after).toMatchObject({ source: "demo seed" });
    expect(events[1]!.reason).toBe("demo seed: initial champion");
    const before = await state(db.prisma);
    expect((await demo({ cacheDir })).id).toBe(champion.id);
    expect(await state(db.prisma)).toEqual(before);
  });

  it("with RCMNET_MODEL_DIR naming weights already registered: no second model.register", async () => {
    const folder = await writeModelDir(join(dataDir, "models", "registered-z"));
    const { version } = await registeredBySomeone("registered-z");
    const champion = await demo({ modelDir: folder });
    expect(champion.id).toBe(version.id);
    expect(await db.prisma.auditEvent.count({ where: { action: "model.register" } })).toBe(1);
    expect((await db.prisma.auditEvent.findFirstOrThrow({ where: { action: "model.championChanged" } })).reason).toBe(
      'demo seed: initial champion from RCMNET_MODEL_DIR (folder "registered-z")',
    );
  });
});
