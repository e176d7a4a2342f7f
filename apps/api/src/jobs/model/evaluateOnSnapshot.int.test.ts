// A model's evaluation on a snapshot's TEST part keeps each item's call, in the snapshot's order,
// stored with the cached evaluation; a training run's model (evaluateClassifier) keeps them the
// same way, so the two pair. The classifiers are stand-ins that read their call from the crop's
// bytes: what is tested is which item each call is recorded against, not a network.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobStore, type ModelVersion } from "@rcmnet/db";
import { createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pairEvaluations } from "../../modules/models/pairedComparison.ts";
import { insertCaseWithCells, insertModelVersion } from "../testing/fixtures.ts";
import { ClassifierCache, resolveModelDir } from "./classifierCache.ts";
import { cachedEvaluation, evaluateClassifier, evaluateOnSnapshot } from "./evaluateOnSnapshot.ts";
import { decodeItemCalls, itemOrderSha256 } from "./itemCalls.ts";
import type { CellClassifier, ModelDirInfo, ModelRuntime } from "./runtime.ts";

let db: TestDatabase;
let dataDir: string;
let blobs: BlobStore;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "rcmnet-eval-"));
  blobs = new BlobStore(join(dataDir, "blobs"));
});
afterAll(async () => {
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/**
 * A classifier whose crop reads "<label> <tags>": it calls the label, except the other class on a
 * crop tagged `wrong`, and abstains on one tagged `unsure`.
 */
function standIn(labels: string[], wrong: string, unsure: string, predicted: { n: number }): CellClassifier {
  return {
    labels,
    async predict(crops) {
      predicted.n += crops.length;
      return crops.map((bytes) => {
        const [label, ...tags] = Buffer.from(bytes).toString("utf8").split(" ");
        const called = tags.includes(wrong) ? labels.find((l) => l !== label)! : label!;
        return { label: called, probabilities: {}, confidence: tags.includes(unsure) ? 0.2 : 0.9, abstained: tags.includes(unsure) };
      });
    },
    async explain() {
      return new Uint8Array();
    },
    dispose() {},
  };
}

describe("evaluations on a snapshot's TEST part", () => {
  it("keep each item's call in the snapshot's order, stored with the evaluation, the same way for a run's model", async () => {
    const p = db.prisma;
    const tech = await p.user.create({ data: { login: "tech", displayName: "T", role: "TECHNICIAN", passwordHash: "x" } });
    const hema = await p.user.create({ data: { login: "hema", displayName: "H", role: "HEMATOLOGIST", passwordHash: "x" } });
    // Six TEST cells and one TRAIN cell: model A misses "a" cells and abstains on "u" ones, model B misses "b" ones.
    const specs = [
      ["car_t", ""],
      ["lymphocyte", "a"],
      ["car_t", "u"],
      ["lymphocyte", "b"],
      ["car_t", "a b"],
      ["lymphocyte", ""],
      ["car_t", "train"],
    ] as const;
    const kase = await insertCaseWithCells(p, { createdById: tech.id, reviewerId: hema.id, status: "SIGNED_OUT", cells: specs.map(([label]) => ({ reviews: [label] })) });
    const snapshot = await p.datasetSnapshot.create({ data: { name: "calls", labels: ["car_t", "lymphocyte"], itemCount: specs.length, contentHash: "calls", createdById: hema.id } });
    const tagsOf = new Map<string, string>();
    for (const [i, [label, tags]] of specs.entries()) {
      const cellId = kase.cells[i]!.id;
      tagsOf.set(cellId, tags);
      const cropSha256 = await blobs.put(Buffer.from(`${label} ${tags}`));
      await p.datasetItem.create({ data: { snapshotId: snapshot.id, cellId, label, split: tags === "train" ? "TRAIN" : "TEST", cropSha256 } });
    }

    const versionA = await insertModelVersion(p);
    const versionB = await insertModelVersion(p);
    const predicted = { n: 0 };
    const behaviour = new Map([
      [resolveModelDir(dataDir, versionA.artifactPath), { version: versionA, wrong: "a", unsure: "u" }],
      [resolveModelDir(dataDir, versionB.artifactPath), { version: versionB, wrong: "b", unsure: "-" }],
    ]);
    const runtime = {
      async inspectModelDir(dir: string): Promise<ModelDirInfo> {
        const { version } = behaviour.get(dir)!;
        return { name: version.name, version: version.version, labels: version.labels, inputSize: 32, normalization: {}, architecture: {}, metrics: {}, weightsSha256: version.artifactSha256, folderSha256: "", cropContext: null };
      },
      async loadClassifier(dir: string) {
        const { version, wrong, unsure } = behaviour.get(dir)!;
        return standIn(version.labels, wrong, unsure, predicted);
      },
    } as unknown as ModelRuntime;
    const ds = await p.user.create({ data: { login: "ds", displayName: "D", role: "DATA_SCIENTIST", passwordHash: "x" } });
    const deps = { prisma: p, blobs, classifiers: new ClassifierCache(runtime, dataDir), actor: { id: ds.id, login: ds.login } };
    const evaluateEvents = (v: ModelVersion) => p.auditEvent.findMany({ where: { action: "model.evaluate", entityId: v.id }, orderBy: { seq: "asc" } });

    const a = await evaluateOnSnapshot(deps, versionA, snapshot.id);
    expect(a).toMatchObject({ count: 6, abstained: 1, accuracy: 3 / 6 });
    // The TEST items in the order the database gives them (cell id), their labels and A's calls.
    const items = await p.datasetItem.findMany({ where: { snapshotId: snapshot.id, split: "TEST" }, orderBy: { cellId: "asc" } });
    const callOfA = (it: (typeof items)[number]) => {
      const tags = tagsOf.get(it.cellId)!.split(" ");
      return tags.includes("u") ? null : tags.includes("a") ? (it.label === "car_t" ? "lymphocyte" : "car_t") : it.label;
    };
    expect(decodeItemCalls(a.items)).toEqual({
      itemsSha256: itemOrderSha256(items.map((it) => it.cellId)),
      truth: items.map((it) => it.label),
      called: items.map(callOfA),
    });

    // Stored with the cached evaluation (the figures a proposal pairs), and read back from it.
    const stored = (v: ModelVersion) => p.modelVersion.findUniqueOrThrow({ where: { id: v.id } });
    expect(cachedEvaluation(await stored(versionA), snapshot.id)?.items).toEqual(a.items);
    const before = predicted.n;
    expect((await evaluateOnSnapshot(deps, await stored(versionA), snapshot.id)).items).toEqual(a.items);
    expect(predicted.n).toBe(before);
    // Storing it is a change of record (a proposal later freezes these figures): audited once, as
    // its asker's, with the figures and the TEST cells' order; reading it from the cache is not.
    const [event, ...more] = await evaluateEvents(versionA);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ actorId: ds.id, actorLogin: "ds", entityType: "ModelVersion", before: null });
    expect(event!.after).toMatchObject({ snapshotId: snapshot.id, count: 6, accuracy: 3 / 6, abstained: 1, itemsSha256: a.items?.itemsSha256 });
    expect(event!.after).not.toHaveProperty("items");

    // B, on the same items: A alone right on the "b" cell (b = 1); B alone on the "a" and "u" cells (c = 2).
    const b = await evaluateOnSnapshot(deps, versionB, snapshot.id);
    expect(b.items?.itemsSha256).toBe(a.items?.itemsSha256);
    expect(pairEvaluations(a, b)).toMatchObject({
      status: "PAIRED",
      // McNemar mid-p of 1 against 2: 2 (4/8 - 3/16) = 5/8.
      paired: { cells: 6, bothRight: 2, candidateOnlyRight: 1, championOnlyRight: 2, bothWrong: 1, mcnemarP: 0.625, mcnemarTest: "MID_P" },
    });

    // A training run's model, not registered yet (trainModel's evaluateLoaded): the same record.
    const run = await evaluateClassifier(deps, { modelVersionId: "candidate", model: standIn(versionA.labels, "a", "u", predicted), abstainThreshold: 0.5 }, snapshot.id, []);
    expect(run.items).toEqual(a.items);
    expect(pairEvaluations(run, b).status).toBe("PAIRED");

    // Evaluated again from a copy read before the first was stored (two comparisons at once): the
    // event records the evaluation it replaced.
    await evaluateOnSnapshot({ ...deps, actor: null }, versionA, snapshot.id);
    const replaced = (await evaluateEvents(versionA)).at(-1)!;
    expect(replaced).toMatchObject({ actorId: null, actorLogin: "system" });
    expect(replaced.before).toMatchObject({ snapshotId: snapshot.id, count: 6, accuracy: 3 / 6 });
    expect(await evaluateEvents(versionB)).toHaveLength(1);
  });
});
