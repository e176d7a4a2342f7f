// Models trained before the split by patient may have learned from patients that now sit in a
// snapshot's TEST part: their figures there are flagged, and a proposal records it for the admin.
// A model trained outside the platform (or fine-tuned from one) learned from data unknown here:
// said so, never counted as "learned from none".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatasetSplit, Role } from "@rcmnet/db";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { insertCaseWithCells, insertModelVersion } from "../testing/fixtures.ts";
import { runTestLeakage, testLeakage } from "./testLeakage.ts";

let api: TestApi;
let tokens: Record<Role, string>;
beforeAll(async () => {
  // The fixtures' evaluations are of 20 TEST cells: a minimum below that lets the proposal here be filed.
  api = await createTestApi({ minTestCells: 1 });
  tokens = await api.loginAsEveryRole();
});
afterAll(() => api?.close());

const PROPOSE = `mutation($id: ID!, $reason: String!) { proposePromotion(modelVersionId: $id, reason: $reason) { id } }`;

describe("test-set leakage through earlier training", () => {
  it("counts the TEST patients a model (and its base models) trained on, and records them with a proposal", async () => {
    const p = api.prisma;
    const user = await p.user.findFirstOrThrow({ where: { role: "TECHNICIAN" } });
    const hema = await p.user.findFirstOrThrow({ where: { role: "HEMATOLOGIST" } });
    const withCells = (patientRef: string, n: number) =>
      insertCaseWithCells(p, { createdById: user.id, reviewerId: hema.id, status: "SIGNED_OUT", patientRef, cells: Array.from({ length: n }, () => ({ reviews: ["lymphocyte"] })) });
    const a = await withCells("LEAK-P1", 2);
    const b = await withCells("LEAK-P2", 2);
    const c = await withCells(" leak-p1 ", 1); // the same patient, written differently
    const snapshot = async (parts: [{ id: string; cropSha256: string }, DatasetSplit][]) => {
      const s = await p.datasetSnapshot.create({ data: { name: `leak-${Math.random()}`, labels: ["lymphocyte"], itemCount: parts.length, contentHash: "x", createdById: user.id } });
      await p.datasetItem.createMany({ data: parts.map(([cell, split]) => ({ snapshotId: s.id, cellId: cell.id, label: "lymphocyte", split, cropSha256: cell.cropSha256 })) });
      return s;
    };
    // The old snapshot, split per cell: one cell of patient 1 in TRAIN, the other in TEST.
    const old = await snapshot([[a.cells[0]!, "TRAIN"], [a.cells[1]!, "TEST"], [b.cells[0]!, "VAL"]]);
    // The new one, split by patient: patient 1 in TEST (all three cells), patient 2 in TRAIN.
    const current = await snapshot([[a.cells[0]!, "TEST"], [a.cells[1]!, "TEST"], [c.cells[0]!, "TEST"], [b.cells[0]!, "TRAIN"], [b.cells[1]!, "TRAIN"]]);
    const trainedOn = async (snapshotId: string, base?: string) => {
      const run = await p.trainingRun.create({ data: { snapshotId, config: {}, startedById: user.id, status: "SUCCEEDED", baseModelVersionId: base ?? null } });
      return insertModelVersion(p, { evaluatedOn: current.id, trainingRunId: run.id });
    };
    const early = await trainedOn(old.id);
    const fineTuned = await trainedOn(current.id, early.id);
    const outside = await insertModelVersion(p, { evaluatedOn: current.id });

    expect(await testLeakage(p, early.id, current.id)).toEqual({ patients: 1, cells: 3, trainingDataKnown: true });
    // Through its base model: patient 1 again (its own run trained on patient 2, in TRAIN here).
    expect(await testLeakage(p, fineTuned.id, current.id)).toEqual({ patients: 1, cells: 3, trainingDataKnown: true });
    // Registered from a directory: nothing seen here, and nothing known either.
    expect(await testLeakage(p, outside.id, current.id)).toEqual({ patients: 0, cells: 0, trainingDataKnown: false });
    // On the old snapshot's TEST cell (patient 1), the early model leaks too: VAL counts as learned.
    expect(await testLeakage(p, early.id, old.id)).toEqual({ patients: 1, cells: 1, trainingDataKnown: true });
    // A run on the old snapshot, before its model is registered, scored on that snapshot's own
    // TEST part: trained from scratch, it still learned patient 1 from its own TRAIN part.
    expect(await runTestLeakage(p, { snapshotId: old.id, baseModelVersionId: null }, old.id)).toEqual({ patients: 1, cells: 1, trainingDataKnown: true });
    expect(await runTestLeakage(p, { snapshotId: current.id, baseModelVersionId: null }, current.id)).toEqual({ patients: 0, cells: 0, trainingDataKnown: true });
    expect(await runTestLeakage(p, { snapshotId: current.id, baseModelVersionId: early.id }, current.id)).toEqual({ patients: 1, cells: 3, trainingDataKnown: true });

    // Trained here from the outside model: what its own run learned is still counted (patient 1,
    // through the old snapshot's TRAIN part), but its base's data is unknown, and so is its child's.
    const fromOutside = await trainedOn(old.id, outside.id);
    const grandchild = await trainedOn(current.id, fromOutside.id);
    expect(await testLeakage(p, fromOutside.id, current.id)).toEqual({ patients: 1, cells: 3, trainingDataKnown: false });
    expect(await testLeakage(p, grandchild.id, current.id)).toEqual({ patients: 1, cells: 3, trainingDataKnown: false });
    // A run from it, before its model is registered (what trainModel records), and one from a base model not held here.
    expect(await runTestLeakage(p, { snapshotId: current.id, baseModelVersionId: outside.id }, current.id)).toEqual({ patients: 0, cells: 0, trainingDataKnown: false });
    expect(await runTestLeakage(p, { snapshotId: current.id, baseModelVersionId: "00000000-0000-4000-8000-00000000dead" }, current.id)).toEqual({ patients: 0, cells: 0, trainingDataKnown: false });

    // compareModels says it beside the counts (the evaluations are cached: no model is run).
    const COMPARE = `query($a: ID!, $b: ID!, $s: ID!) { compareModels(a: $a, b: $b, snapshotId: $s) { a { leakedPatients leakedCells trainingDataKnown } b { leakedPatients leakedCells trainingDataKnown } } }`;
    expect((await api.gqlOk(tokens.DATA_SCIENTIST, COMPARE, { a: early.id, b: outside.id, s: current.id })).compareModels).toEqual({
      a: { leakedPatients: 1, leakedCells: 3, trainingDataKnown: true },
      b: { leakedPatients: 0, leakedCells: 0, trainingDataKnown: false },
    });

    // Proposed against a champion evaluated on the same snapshot: the proposal records, for the
    // admin, how many of its test patients each model learned from (a lineage through a per-cell
    // snapshot leaks in every later one, so this is told, not refused).
    // The champion was registered from a directory: the admin is told its data cannot be checked.
    await p.modelVersion.updateMany({ where: { status: "CHAMPION" }, data: { status: "ARCHIVED" } });
    await insertModelVersion(p, { status: "CHAMPION", evaluatedOn: current.id });
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: early.id, reason: "better on test" })).proposePromotion;
    const event = await p.auditEvent.findFirstOrThrow({ where: { action: "model.proposePromotion", entityId: proposal.id } });
    expect(event.after).toMatchObject({
      comparedOnSnapshotId: current.id,
      testLeakage: { candidate: { patients: 1, cells: 3, trainingDataKnown: true }, champion: { patients: 0, cells: 0, trainingDataKnown: false } },
    });
    const EVIDENCE = `{ modelPromotions { nodes { id evidence { candidate { leakedPatients leakedCells trainingDataKnown } champion { leakedPatients leakedCells trainingDataKnown } } } } }`;
    const served = async (id: string) => (await api.gqlOk(tokens.ADMIN, EVIDENCE)).modelPromotions.nodes.find((n: { id: string }) => n.id === id).evidence;
    expect(await served(proposal.id)).toEqual({
      candidate: { leakedPatients: 1, leakedCells: 3, trainingDataKnown: true },
      champion: { leakedPatients: 0, leakedCells: 0, trainingDataKnown: false },
    });

    // A proposal filed before the flag was recorded: served null (not recorded), never guessed.
    const proposer = await p.user.findFirstOrThrow({ where: { role: "DATA_SCIENTIST" } });
    const older = await p.modelPromotion.create({ data: { modelVersionId: fineTuned.id, kind: "PROMOTE", reason: "filed earlier", proposedById: proposer.id } });
    await p.auditEvent.create({
      data: {
        actorId: proposer.id,
        actorLogin: proposer.login,
        action: "model.proposePromotion",
        entityType: "ModelPromotion",
        entityId: older.id,
        after: { comparedOnSnapshotId: current.id, testCells: 3, testLeakage: { candidate: { patients: 0, cells: 0 } } },
      },
    });
    expect(await served(older.id)).toEqual({ candidate: { leakedPatients: 0, leakedCells: 0, trainingDataKnown: null }, champion: null });
  });
});
