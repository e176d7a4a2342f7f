// Two-person rule for the champion, through the GraphQL API: a DATA_SCIENTIST proposes, a
// different person (an ADMIN) decides; refusals are clear errors and change nothing.
import type { Role } from "@rcmnet/db";
import { signCaseForTest } from "@rcmnet/db/testing";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { insertCaseWithCells, insertModelVersion } from "../../jobs/testing/fixtures.ts";
import { evaluatePredictions, withoutLeakage } from "../../jobs/model/evaluation.ts";
import { randomUUID } from "node:crypto";
import { RETRACTION_MEANING } from "../signoff/meanings.ts";
import { decidePromotion } from "./decidePromotion.ts";
import { databaseNow } from "../../lib/databaseNow.ts";

let api: TestApi;
let tokens: Record<Role, string>;

/**
 * RCMNET_MIN_TEST_CELLS here: the evaluations below are of 20 TEST cells (the fixtures' too), a
 * small TEST part the default (100) would refuse; tests of the minimum itself go just under it.
 */
const MIN_TEST_CELLS = 20;

beforeAll(async () => {
  api = await createTestApi({ minTestCells: MIN_TEST_CELLS });
  tokens = await api.loginAsEveryRole();
});
afterAll(async () => {
  await api?.close();
});

const PROPOSE = `mutation($id: ID!, $reason: String!) {
  proposePromotion(modelVersionId: $id, reason: $reason) { id kind state reason proposedBy { login } modelVersion { id status } }
}`;
const DECIDE = `mutation($id: ID!, $approve: Boolean!, $note: String) {
  decidePromotion(id: $id, approve: $approve, note: $note) { id state decidedBy { login } decisionNote modelVersion { id status } }
}`;
/** The snapshot on whose TEST part the fixtures' candidates and champions were evaluated together. */
const SNAP = "00000000-0000-4000-8000-00000000e0a1";
const ROLLBACK = `mutation($reason: String!, $id: ID) {
  proposeRollback(reason: $reason, modelVersionId: $id) { id kind state modelVersion { id status } }
}`;

/** Everything a refused call must leave untouched (no re-prediction job enqueued either). */
async function registryState() {
  const [versions, promotions, audit, jobs] = await Promise.all([
    api.prisma.modelVersion.findMany({ orderBy: { id: "asc" }, select: { id: true, status: true } }),
    api.prisma.modelPromotion.findMany({ orderBy: { id: "asc" } }),
    api.prisma.auditEvent.count(),
    api.prisma.job.count(),
  ]);
  return { versions, promotions, audit, jobs };
}

function codeOf(result: { errors?: { extensions?: { code?: string } }[] }) {
  return result.errors?.[0]?.extensions?.code;
}

/** A real snapshot row (ordered by createdAt), with TEST/TRAIN items for the given cells. */
async function insertSnapshot(
  id: string,
  name: string,
  createdAt: Date,
  items: { cellId: string; label: string; split: "TRAIN" | "TEST"; bulkConfirmed?: boolean | null }[] = [],
) {
  const by = await api.prisma.user.findFirstOrThrow({ where: { role: "DATA_SCIENTIST" } });
  await api.prisma.datasetSnapshot.create({
    data: { id, name, labels: ["car_t", "lymphocyte"], itemCount: items.length, contentHash: `hash-${name}`, createdById: by.id, createdAt },
  });
  for (const it of items) await api.prisma.datasetItem.create({ data: { snapshotId: id, ...it, cropSha256: "c".repeat(64) } });
}

/** An evaluation on 10 car_t and 10 lymphocyte TEST cells, `right` of the lymphocytes called right. */
function evaluation(lymphocytesRight: number, modelLabels: string[] = []) {
  const truth = [...Array(10).fill("car_t"), ...Array(10).fill("lymphocyte")] as string[];
  const predicted = truth.map((t, i) => ({ label: t === "lymphocyte" && i - 10 >= lymphocytesRight ? "car_t" : t, abstained: false }));
  return withoutLeakage(evaluatePredictions(truth, predicted, modelLabels));
}

/** An evaluation on `cells` car_t TEST cells, all called right. */
function evaluationOf(cells: number) {
  const truth = Array(cells).fill("car_t") as string[];
  return withoutLeakage(evaluatePredictions(truth, truth.map((label) => ({ label, abstained: false }))));
}

/** Adds evaluations to a version's metrics (as compareModels stores them). */
async function evaluate(id: string, evaluations: Record<string, unknown>) {
  const v = await api.prisma.modelVersion.findUniqueOrThrow({ where: { id } });
  const m = (v.metrics ?? {}) as { evaluations?: Record<string, unknown> };
  await api.prisma.modelVersion.update({ where: { id }, data: { metrics: JSON.parse(JSON.stringify({ ...m, evaluations: { ...m.evaluations, ...evaluations } })) } });
}

describe("the first promotion (no champion yet)", () => {
  // Before any champion: these run first, and leave none (the proposal is rejected).
  const FIRST_EVIDENCE = `{ modelPromotions { nodes { id evidence {
    snapshotId snapshot { name } testCells minTestCells untestedLabels acceptedRegression accuracyDifference { difference } pairing pairingNote paired { cells }
    regressions { measure } champion { accuracy }
    candidate { modelVersion { id } accuracy macroF1 correct abstained leakedPatients leakedCells trainingDataKnown perClass { label recall support recallCi95 } }
  } } } }`;

  it("is refused without a TEST-part evaluation of the candidate, saying how to get one, changing nothing", async () => {
    expect(await api.prisma.modelVersion.count({ where: { status: "CHAMPION" } })).toBe(0);
    // Registered from a directory: no evaluation. Evaluated only on a TEST part with no cell: none either.
    const unevaluated = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    const onEmpty = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    const emptySnap = "00000000-0000-4000-8000-0000000001e0";
    await insertSnapshot(emptySnap, "first-empty-test", new Date("2026-11-01T00:00:00Z"));
    await evaluate(onEmpty.id, { [emptySnap]: withoutLeakage(evaluatePredictions([], [], [], [])) });
    for (const version of [unevaluated, onEmpty]) {
      const before = await registryState();
      const r = await api.gql(tokens.DATA_SCIENTIST, PROPOSE, { id: version.id, reason: "the first model" });
      expect(codeOf(r)).toBe("CONFLICT");
      expect(r.errors?.[0]?.message).toMatch(/has no test-set evaluation .*with no champion yet it is weighed on its own figures: evaluate it on a snapshot's locked TEST part first \(compareModels/);
      expect(await registryState()).toEqual(before);
    }

    // Scored against a TEST label the platform has since withdrawn (here an amendment's): not evidence either.
    const tech = await api.createUser("TECHNICIAN");
    const { cells } = await insertCaseWithCells(api.prisma, { createdById: tech.user.id, reviewerId: tech.user.id, status: "AMENDED", cells: [{ reviews: ["car_t", "lymphocyte"] }] });
    const relabelledSnap = "00000000-0000-4000-8000-0000000001e1";
    await insertSnapshot(relabelledSnap, "first-relabelled", new Date("2026-11-02T00:00:00Z"), [{ cellId: cells[0]!.id, label: "car_t", split: "TEST" }]);
    const relabelled = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(relabelled.id, { [relabelledSnap]: evaluation(10) });
    const before = await registryState();
    const r = await api.gql(tokens.DATA_SCIENTIST, PROPOSE, { id: relabelled.id, reason: "the first model" });
    expect(codeOf(r)).toBe("CONFLICT");
    expect(r.errors?.[0]?.message).toMatch(/^1 TEST cell of snapshot first-relabelled, where .+ was evaluated, no longer holds the label it was frozen with \(relabelled by an amendment, its image voided, or its case's report retracted\): it was scored against labels since withdrawn\. Take a new snapshot, evaluate it on it/);
    expect(await registryState()).toEqual(before);
  });

  it("freezes the candidate's own figures on its newest evaluated TEST part, shown to the admin deciding", async () => {
    const older = "00000000-0000-4000-8000-0000000001e2";
    const newer = "00000000-0000-4000-8000-0000000001e3";
    await insertSnapshot(older, "first-older", new Date("2026-11-03T00:00:00Z"));
    await insertSnapshot(newer, "first-newer", new Date("2026-11-04T00:00:00Z"));
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    // It also knows eosinophils, which these TEST parts have none of.
    await evaluate(candidate.id, { [older]: evaluation(10), [newer]: evaluation(6, ["car_t", "lymphocyte", "eosinophil"]) });
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "the first model trained here" })).proposePromotion;
    expect(proposal).toMatchObject({ kind: "PROMOTE", state: "PROPOSED" });
    expect(await api.prisma.modelPromotion.findUniqueOrThrow({ where: { id: proposal.id } })).toMatchObject({ replacesChampionId: null });

    const expected = {
      snapshotId: newer,
      snapshot: { name: "first-newer" },
      testCells: 20,
      minTestCells: MIN_TEST_CELLS,
      untestedLabels: ["eosinophil"],
      acceptedRegression: false,
      accuracyDifference: null,
      pairing: "NO_CHAMPION",
      pairingNote: expect.stringMatching(/^No champion to compare with: the first champion is weighed on its own figures/),
      paired: null,
      regressions: [],
      champion: null,
      candidate: {
        modelVersion: { id: candidate.id },
        accuracy: 0.8,
        macroF1: expect.any(Number),
        correct: 16,
        abstained: 0,
        leakedPatients: 0,
        leakedCells: 0,
        // Registered from a directory (no training run here): what it learned from is unknown.
        trainingDataKnown: false,
        perClass: [
          { label: "car_t", recall: 1, support: 10, recallCi95: [0.722, 1] },
          { label: "eosinophil", recall: null, support: 0, recallCi95: null },
          { label: "lymphocyte", recall: 0.6, support: 10, recallCi95: [0.312, 0.832] },
        ],
      },
    };
    const evidenceOf = async () => (await api.gqlOk(tokens.ADMIN, FIRST_EVIDENCE)).modelPromotions.nodes.find((n: { id: string }) => n.id === proposal.id).evidence;
    expect(await evidenceOf()).toEqual(expected);
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: proposal.id, action: "model.proposePromotion" } });
    expect(event.after).toMatchObject({
      comparedOnSnapshotId: newer,
      testCells: 20,
      minTestCells: MIN_TEST_CELLS,
      testLeakage: { candidate: { patients: 0, cells: 0, trainingDataKnown: false } },
      figures: { candidate: { accuracy: 0.8, correct: 16 } },
      pairing: { status: "NO_CHAMPION" },
      regressions: [],
      acceptedRegression: false,
    });
    expect(event.after).not.toHaveProperty("figures.champion");
    // Frozen: a later evaluation rewriting the version's cache does not change what the admin weighs.
    await evaluate(candidate.id, { [newer]: evaluation(10) });
    expect(await evidenceOf()).toEqual(expected);
    // Leave no champion for the tests after these.
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not yet" });
  });

  it("is refused on a TEST part below RCMNET_MIN_TEST_CELLS, or one whose size is not recorded, changing nothing; filed at exactly the minimum, on an older snapshot that has it", async () => {
    const enough = "00000000-0000-4000-8000-0000000001e4";
    const small = "00000000-0000-4000-8000-0000000001e5";
    await insertSnapshot(enough, "first-enough", new Date("2026-11-05T00:00:00Z"));
    await insertSnapshot(small, "first-small", new Date("2026-11-06T00:00:00Z"));
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(candidate.id, { [small]: evaluationOf(MIN_TEST_CELLS - 1) });
    let before = await registryState();
    let r = await api.gql(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "the first model" });
    expect(codeOf(r)).toBe("CONFLICT");
    expect(r.errors?.[0]?.message).toBe(
      `The TEST part of snapshot first-small, where ${candidate.name} ${candidate.version} was evaluated, has 19 cells: a promotion rests on at least 20 (RCMNET_MIN_TEST_CELLS), and no other snapshot it was evaluated on has as many. Take a larger snapshot (more signed-out cases), evaluate it on its TEST part, then propose`,
    );
    // No proposal row, no audit event.
    expect(await registryState()).toEqual(before);

    // An evaluation that does not say how many cells it was scored on cannot show it had enough.
    const uncounted = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    const { count: _unrecorded, ...withoutCount } = evaluationOf(MIN_TEST_CELLS);
    await evaluate(uncounted.id, { [enough]: withoutCount });
    before = await registryState();
    r = await api.gql(tokens.DATA_SCIENTIST, PROPOSE, { id: uncounted.id, reason: "the first model" });
    expect(codeOf(r)).toBe("CONFLICT");
    expect(r.errors?.[0]?.message).toMatch(/^The evaluation on snapshot first-enough, where .+ was evaluated, does not record how many TEST cells it was scored on: a promotion rests on at least 20 \(RCMNET_MIN_TEST_CELLS\)/);
    expect(await registryState()).toEqual(before);

    // Evaluated also on an older snapshot with exactly the minimum: that one is the evidence, not
    // the newer one too small to choose by.
    await evaluate(candidate.id, { [enough]: evaluationOf(MIN_TEST_CELLS) });
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "the first model" })).proposePromotion;
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: proposal.id, action: "model.proposePromotion" } });
    expect(event.after).toMatchObject({ comparedOnSnapshotId: enough, testCells: 20, minTestCells: 20 });
    const { evidence } = (await api.gqlOk(tokens.ADMIN, FIRST_EVIDENCE)).modelPromotions.nodes.find((n: { id: string }) => n.id === proposal.id);
    expect(evidence).toMatchObject({ snapshot: { name: "first-enough" }, testCells: 20, minTestCells: 20 });
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not yet" });
  });

  it("a first promotion proposed before it needed evidence (none recorded) is not approved on nothing", async () => {
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    const ds = await api.createUser("DATA_SCIENTIST");
    // As such a proposal stands in the database: the row, and no figures recorded with it.
    const old = await api.prisma.modelPromotion.create({ data: { modelVersionId: candidate.id, kind: "PROMOTE", reason: "the first model", proposedById: ds.user.id } });
    const before = await registryState();
    const r = await api.gql(tokens.ADMIN, DECIDE, { id: old.id, approve: true, note: "looks fine" });
    expect(codeOf(r)).toBe("CONFLICT");
    expect(r.errors?.[0]?.message).toMatch(/carries no TEST-part evidence .*reject it/);
    expect(await registryState()).toEqual(before);
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: old.id, approve: false, note: "propose again with figures" });
  });
});

describe("model promotion", () => {
  it("needs a DATA_SCIENTIST proposal and another person's ADMIN approval; old predictions keep their version", async () => {
    const champion = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, status: "CHAMPION", evaluatedOn: SNAP });
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, evaluatedOn: SNAP });
    // A prediction made by the old champion.
    const tech = await api.createUser("TECHNICIAN");
    const { cells } = await insertCaseWithCells(api.prisma, {
      createdById: tech.user.id,
      reviewerId: tech.user.id,
      status: "IN_REVIEW",
      cells: [{}],
    });
    const oldPrediction = await api.prisma.prediction.create({
      data: {
        cellId: cells[0]!.id,
        modelVersionId: champion.id,
        label: "car_t",
        probabilities: {},
        confidence: 0.9,
      },
    });

    // Wrong roles are refused and change nothing.
    for (const role of ["ADMIN", "HEMATOLOGIST", "TECHNICIAN", "AUDITOR"] as Role[]) {
      const before = await registryState();
      const r = await api.gql(tokens[role], PROPOSE, { id: candidate.id, reason: "better" });
      expect(codeOf(r), role).toBe("FORBIDDEN");
      expect(await registryState()).toEqual(before);
    }

    const proposal = (
      await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "better on TEST" })
    ).proposePromotion;
    expect(proposal).toMatchObject({
      kind: "PROMOTE",
      state: "PROPOSED",
      modelVersion: { status: "CANDIDATE" },
    });

    // The admin sees what to weigh: both models' figures where they were compared, and leakage.
    const EVIDENCE = `{ modelPromotions { nodes { id evidence { snapshotId candidate { modelVersion { id } accuracy macroF1 leakedPatients leakedCells } champion { modelVersion { id } accuracy leakedPatients } } } } }`;
    const listed = (await api.gqlOk(tokens.ADMIN, EVIDENCE)).modelPromotions.nodes.find((n: { id: string }) => n.id === proposal.id);
    expect(listed.evidence).toEqual({
      snapshotId: SNAP,
      candidate: { modelVersion: { id: candidate.id }, accuracy: 0.9, macroF1: 0.9, leakedPatients: 0, leakedCells: 0 },
      champion: { modelVersion: { id: champion.id }, accuracy: 0.9, leakedPatients: 0 },
    });
    // The figures are the proposal's: a later evaluation rewriting the version's cache does not
    // change what the admin is asked to weigh.
    await api.prisma.modelVersion.update({ where: { id: candidate.id }, data: { metrics: { evaluations: { [SNAP]: { count: 20, accuracy: 0.5, macroF1: 0.5 } } } } });
    const later = (await api.gqlOk(tokens.ADMIN, EVIDENCE)).modelPromotions.nodes.find((n: { id: string }) => n.id === proposal.id);
    expect(later.evidence.candidate).toMatchObject({ accuracy: 0.9, macroF1: 0.9 });

    // A second proposal for the same version waits on the first.
    expect(codeOf(await api.gql(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "again" }))).toBe(
      "CONFLICT",
    );

    // Only an ADMIN decides.
    for (const role of ["DATA_SCIENTIST", "HEMATOLOGIST", "TECHNICIAN", "AUDITOR"] as Role[]) {
      const before = await registryState();
      expect(codeOf(await api.gql(tokens[role], DECIDE, { id: proposal.id, approve: true })), role).toBe(
        "FORBIDDEN",
      );
      expect(await registryState()).toEqual(before);
    }

    const decided = (await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: true, note: "ok" }))
      .decidePromotion;
    expect(decided).toMatchObject({
      state: "APPROVED",
      decisionNote: "ok",
      modelVersion: { status: "CHAMPION" },
    });
    expect(decided.decidedBy.login).not.toBe(proposal.proposedBy.login);
    const statuses = await api.prisma.modelVersion.findMany({
      where: { id: { in: [champion.id, candidate.id] } },
    });
    expect(Object.fromEntries(statuses.map((v) => [v.id, v.status]))).toEqual({
      [champion.id]: "ARCHIVED",
      [candidate.id]: "CHAMPION",
    });
    expect(await api.prisma.prediction.findUniqueOrThrow({ where: { id: oldPrediction.id } })).toMatchObject({
      modelVersionId: champion.id,
    });
    // Committed with the approval: the worker predicts open cases' undecided cells again with it.
    expect(await api.prisma.job.findMany({ where: { type: "repredictOpenCases" } })).toEqual([
      expect.objectContaining({ status: "QUEUED", payload: { modelVersionId: candidate.id }, dedupeKey: `repredictOpenCases:${candidate.id}:1` }),
    ]);
    const audit = await api.prisma.auditEvent.findMany({
      where: { entityId: { in: [proposal.id, candidate.id, champion.id] } },
    });
    expect(audit.map((a) => a.action).sort()).toEqual(
      ["model.approvePromotion", "model.championChanged", "model.proposePromotion", "model.status"].sort(),
    );

    // Deciding twice is a conflict.
    expect(codeOf(await api.gql(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "no" }))).toBe(
      "CONFLICT",
    );

    // Rollback is one approved step back to the previous champion.
    const rollback = (await api.gqlOk(tokens.DATA_SCIENTIST, ROLLBACK, { reason: "drift seen in review" }))
      .proposeRollback;
    expect(rollback).toMatchObject({
      kind: "ROLLBACK",
      state: "PROPOSED",
      modelVersion: { id: champion.id },
    });
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: rollback.id, approve: true });
    expect((await api.prisma.modelVersion.findUniqueOrThrow({ where: { id: champion.id } })).status).toBe(
      "CHAMPION",
    );
    expect((await api.prisma.modelVersion.findUniqueOrThrow({ where: { id: candidate.id } })).status).toBe(
      "ARCHIVED",
    );
    expect(await api.prisma.modelVersion.count({ where: { status: "CHAMPION" } })).toBe(1);
    expect(await api.prisma.job.findUnique({ where: { dedupeKey: `repredictOpenCases:${champion.id}:1` } })).toMatchObject({ status: "QUEUED", payload: { modelVersionId: champion.id } });

    // A version's audit trail holds the proposals and decisions about it (ModelPromotion events
    // naming it), and those that replaced it as champion, beside its own events.
    const TRAIL = `query($f: AuditFilter) { auditTrail(filter: $f, first: 100) { nodes { action entityType entityId } } }`;
    const trailOf = async (f: object) =>
      (await api.gqlOk(tokens.AUDITOR, TRAIL, { f })).auditTrail.nodes.map((n: { action: string; entityType: string; entityId: string }) => `${n.action} ${n.entityType} ${n.entityId}`).sort();
    expect(await trailOf({ entityId: candidate.id })).toEqual(
      [
        `model.proposePromotion ModelPromotion ${proposal.id}`,
        `model.approvePromotion ModelPromotion ${proposal.id}`,
        `model.championChanged ModelVersion ${candidate.id}`,
        // The rollback would replace it; approved, it archived it and crowned the old champion.
        `model.proposeRollback ModelPromotion ${rollback.id}`,
        `model.status ModelVersion ${candidate.id}`,
        `model.championChanged ModelVersion ${champion.id}`,
      ].sort(),
    );
    expect(await trailOf({ entityId: champion.id })).toEqual(
      [
        `model.proposePromotion ModelPromotion ${proposal.id}`,
        `model.status ModelVersion ${champion.id}`,
        // The candidate's crowning replaced it (before.previousChampionIds).
        `model.championChanged ModelVersion ${candidate.id}`,
        `model.proposeRollback ModelPromotion ${rollback.id}`,
        `model.approvePromotion ModelPromotion ${rollback.id}`,
        `model.championChanged ModelVersion ${champion.id}`,
      ].sort(),
    );
    // With the type, the same history; another type, only the events of that type about the id.
    expect(await trailOf({ entityId: candidate.id, entityType: "ModelVersion" })).toEqual(await trailOf({ entityId: candidate.id }));
    expect(await trailOf({ entityId: candidate.id, entityType: "ModelPromotion" })).toEqual([]);
    expect(await trailOf({ entityId: proposal.id, entityType: "ModelPromotion" })).toEqual(
      [`model.proposePromotion ModelPromotion ${proposal.id}`, `model.approvePromotion ModelPromotion ${proposal.id}`].sort(),
    );
  });

  it("refuses to approve a proposal weighed against a champion that has changed since", async () => {
    const current = (await api.prisma.modelVersion.findFirst({ where: { status: "CHAMPION" } })) ?? (await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, status: "CHAMPION", evaluatedOn: SNAP }));
    const older = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, evaluatedOn: SNAP });
    const newer = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, evaluatedOn: SNAP });
    const stale = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: older.id, reason: `better than ${current.name} on the locked test set` })).proposePromotion;
    expect((await api.prisma.modelPromotion.findUniqueOrThrow({ where: { id: stale.id } })).replacesChampionId).toBe(current.id);
    const fresh = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: newer.id, reason: "better still" })).proposePromotion;
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: fresh.id, approve: true });

    const before = await registryState();
    const refused = await api.gql(tokens.ADMIN, DECIDE, { id: stale.id, approve: true });
    expect(codeOf(refused)).toBe("CONFLICT");
    expect(refused.errors?.[0]?.message).toMatch(/champion has changed since this was proposed \(now .+\): compare against it and propose again/);
    expect(await registryState()).toEqual(before);
    // Rejecting it still works: a decision that changes no champion.
    expect((await api.gqlOk(tokens.ADMIN, DECIDE, { id: stale.id, approve: false, note: "superseded" })).decidePromotion.state).toBe("REJECTED");
  });

  it("refuses to approve a version whose model folder is gone or rewritten, changing nothing", async () => {
    const archived = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, status: "ARCHIVED" });
    const folder = join(api.env.dataDir, "models", archived.artifactPath);
    const rollback = (await api.gqlOk(tokens.DATA_SCIENTIST, ROLLBACK, { reason: "back to the earlier one", id: archived.id })).proposeRollback;
    await writeFile(join(folder, "weights.bin"), "rewritten");
    let before = await registryState();
    const rewritten = await api.gql(tokens.ADMIN, DECIDE, { id: rollback.id, approve: true });
    expect(codeOf(rewritten)).toBe("CONFLICT");
    expect(rewritten.errors?.[0]?.message).toMatch(/cannot serve: weights\.bin hashes to .*Restore its model folder/);
    expect(await registryState()).toEqual(before);
    await rm(folder, { recursive: true, force: true });
    before = await registryState();
    const gone = await api.gql(tokens.ADMIN, DECIDE, { id: rollback.id, approve: true });
    expect(codeOf(gone)).toBe("CONFLICT");
    expect(gone.errors?.[0]?.message).toMatch(/cannot serve: model-card\.json is missing/);
    expect(gone.errors?.[0]?.message).not.toContain(api.env.dataDir);
    expect(await registryState()).toEqual(before);
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: rollback.id, approve: false, note: "its folder is gone" });
  });

  it("refuses to approve a version whose model card or topology was edited after registration (weights and labels as registered)", async () => {
    const archived = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, status: "ARCHIVED" });
    const folder = join(api.env.dataDir, "models", archived.artifactPath);
    const rollback = (await api.gqlOk(tokens.DATA_SCIENTIST, ROLLBACK, { reason: "back to the earlier one", id: archived.id })).proposeRollback;
    const card = JSON.parse(await readFile(join(folder, "model-card.json"), "utf8"));
    // A looser abstain threshold: every label and weight as registered, fewer cells sent to a human.
    await writeFile(join(folder, "model-card.json"), JSON.stringify({ ...card, abstainThreshold: 0.05 }));
    const before = await registryState();
    const edited = await api.gql(tokens.ADMIN, DECIDE, { id: rollback.id, approve: true });
    expect(codeOf(edited)).toBe("CONFLICT");
    expect(edited.errors?.[0]?.message).toMatch(/cannot serve: its model-card\.json or topology\.json has changed since it was registered/);
    expect(await registryState()).toEqual(before);
    // The card restored byte for byte, a topology edit is refused the same way.
    await writeFile(join(folder, "model-card.json"), JSON.stringify(card));
    await writeFile(join(folder, "topology.json"), JSON.stringify({ format: "fixture", layers: "other" }));
    expect(codeOf(await api.gql(tokens.ADMIN, DECIDE, { id: rollback.id, approve: true }))).toBe("CONFLICT");
    expect(await registryState()).toEqual(before);
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: rollback.id, approve: false, note: "its folder was edited" });
  });

  it("refuses the proposer deciding their own proposal (two different people)", async () => {
    // An ADMIN may propose a rollback in an emergency, but not approve it too.
    const current = await api.prisma.modelVersion.findFirstOrThrow({ where: { status: "CHAMPION" } });
    const archived = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, status: "ARCHIVED" });
    const rollback = (await api.gqlOk(tokens.ADMIN, ROLLBACK, { reason: "urgent", id: archived.id }))
      .proposeRollback;
    const before = await registryState();
    const r = await api.gql(tokens.ADMIN, DECIDE, { id: rollback.id, approve: true });
    expect(codeOf(r)).toBe("FORBIDDEN");
    expect(r.errors?.[0]?.message).toMatch(/someone other than its proposer/);
    expect(await registryState()).toEqual(before);
    // Another admin may.
    const other = await api.createUser("ADMIN");
    const otherToken = await api.login(other.user.login, other.password);
    await api.gqlOk(otherToken, DECIDE, { id: rollback.id, approve: false, note: "not needed" });
    expect((await api.prisma.modelVersion.findUniqueOrThrow({ where: { id: current.id } })).status).toBe(
      "CHAMPION",
    );
  });

  it("refuses an admin who controls the proposer's account: created it, reset its password or changed its role", async () => {
    const admin = await api.createUser("ADMIN");
    const adminToken = await api.login(admin.user.login, admin.password);
    const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) { id login } }`;
    const RESET = `mutation($id: ID!, $pw: String!) { resetUserPassword(id: $id, newPassword: $pw, reason: "forgot it") { id } }`;
    const ROLE = `mutation($id: ID!) { changeUserRole(id: $id, role: DATA_SCIENTIST, reason: "new duties") { id } }`;
    const password = "sock puppet passphrase";
    // Created by this admin.
    const made = (await api.gqlOk(adminToken, CREATE, { input: { login: "puppet1", displayName: "Puppet One", role: "DATA_SCIENTIST", password, reason: "new data scientist" } })).createUser;
    // Password reset by this admin.
    const reset = await api.createUser("DATA_SCIENTIST");
    await api.gqlOk(adminToken, RESET, { id: reset.user.id, pw: password });
    // Role changed by this admin.
    const promoted = await api.createUser("TECHNICIAN");
    await api.gqlOk(adminToken, ROLE, { id: promoted.user.id });

    const CHANGE = `mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) { token } }`;
    for (const login of [made.login, reset.user.login, promoted.user.login]) {
      const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, evaluatedOn: SNAP });
      let token = await api.login(login, login === promoted.user.login ? promoted.password : password);
      // The admin knows the temporary password, so can replace it and act as the account.
      if (login !== promoted.user.login) token = (await api.gqlOk(token, CHANGE, { c: password, n: "now chosen by the admin" })).changeMyPassword.token;
      const proposal = (await api.gqlOk(token, PROPOSE, { id: candidate.id, reason: "better on val" })).proposePromotion;
      const before = await registryState();
      const r = await api.gql(adminToken, DECIDE, { id: proposal.id, approve: true });
      expect(codeOf(r), login).toBe("FORBIDDEN");
      expect(r.errors?.[0]?.message).toMatch(/another admin must decide/);
      expect(await registryState()).toEqual(before);
      // An independent admin still can.
      await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not now" });
    }
  });

  it("refuses an admin whose own account the proposer controls: a rollback proposer who created the deciding admin", async () => {
    const proposer = await api.createUser("ADMIN");
    const proposerToken = await api.login(proposer.user.login, proposer.password);
    const archived = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, status: "ARCHIVED" });
    const rollback = (await api.gqlOk(proposerToken, ROLLBACK, { reason: "back to the earlier one", id: archived.id })).proposeRollback;
    // The proposer makes a second admin account, knows its first password, and signs in through it.
    const password = "second admin passphrase";
    const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) { id login } }`;
    const puppet = (await api.gqlOk(proposerToken, CREATE, { input: { login: "puppet-admin", displayName: "Puppet Admin", role: "ADMIN", password, reason: "second admin" } })).createUser;
    const CHANGE = `mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) { token } }`;
    const puppetToken = (await api.gqlOk(await api.login(puppet.login, password), CHANGE, { c: password, n: "chosen by the proposer" })).changeMyPassword.token;
    const before = await registryState();
    const r = await api.gql(puppetToken, DECIDE, { id: rollback.id, approve: true });
    expect(codeOf(r)).toBe("FORBIDDEN");
    expect(r.errors?.[0]?.message).toMatch(/the proposer created, reset the password of, or changed the role of your account \(or of an account that did so\); another admin must decide/);
    expect(await registryState()).toEqual(before);
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: rollback.id, approve: false, note: "not now" });
  });

  it("refuses an admin who controls the proposer through a chain of accounts (A made admin B, B made the proposer)", async () => {
    const a = await api.createUser("ADMIN");
    const aToken = await api.login(a.user.login, a.password);
    const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) { id login } }`;
    const CHANGE = `mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) { token } }`;
    const first = "first chain passphrase";
    // A creates admin B and takes it over with its first password; as B, creates a data scientist and takes that over too.
    const b = (await api.gqlOk(aToken, CREATE, { input: { login: "chain-b", displayName: "Chain B", role: "ADMIN", password: first, reason: "second admin" } })).createUser;
    const bToken = (await api.gqlOk(await api.login(b.login, first), CHANGE, { c: first, n: "B chosen by A" })).changeMyPassword.token;
    const c = (await api.gqlOk(bToken, CREATE, { input: { login: "chain-c", displayName: "Chain C", role: "DATA_SCIENTIST", password: first, reason: "new data scientist" } })).createUser;
    const cToken = (await api.gqlOk(await api.login(c.login, first), CHANGE, { c: first, n: "C chosen by A" })).changeMyPassword.token;
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, evaluatedOn: SNAP });
    const proposal = (await api.gqlOk(cToken, PROPOSE, { id: candidate.id, reason: "better on val" })).proposePromotion;
    const before = await registryState();
    const r = await api.gql(aToken, DECIDE, { id: proposal.id, approve: true });
    expect(codeOf(r)).toBe("FORBIDDEN");
    expect(r.errors?.[0]?.message).toMatch(/or of an account that did so\); another admin must decide/);
    expect(await registryState()).toEqual(before);
    // The chain runs one way: B's creator is not controlled by what B made, and an independent admin decides.
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not now" });
  });

  it("answers bad input with clear errors and changes nothing", async () => {
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, evaluatedOn: SNAP });
    const champion = await api.prisma.modelVersion.findFirstOrThrow({ where: { status: "CHAMPION" } });
    const unevaluated = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, evaluatedOn: "00000000-0000-4000-8000-0000000000ff" });
    // Trained on a snapshot without lymphocytes: it lost a class the champion has.
    const narrower = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, evaluatedOn: SNAP, labels: ["car_t"] });
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      [PROPOSE, { id: candidate.id, reason: "   " }, "BAD_USER_INPUT", /reason is required/],
      [PROPOSE, { id: candidate.id, reason: "x".repeat(2001) }, "BAD_USER_INPUT", /at most/],
      [PROPOSE, { id: "not-a-uuid", reason: "r" }, "NOT_FOUND", /Model version not found/],
      [PROPOSE, { id: "00000000-0000-4000-8000-000000000000", reason: "r" }, "NOT_FOUND", /not found/],
      [PROPOSE, { id: champion.id, reason: "r" }, "CONFLICT", /already the champion/],
      [PROPOSE, { id: unevaluated.id, reason: "r" }, "CONFLICT", /no test-set evaluation on the same snapshot as the champion/],
      [ROLLBACK, { reason: "r", id: candidate.id }, "CONFLICT", /earlier champion/],
      [PROPOSE, { id: narrower.id, reason: "r" }, "CONFLICT", /cannot suggest lymphocyte, which the champion .+ does/],
    ];
    for (const [query, vars, code, message] of cases) {
      const before = await registryState();
      const r = await api.gql(tokens.DATA_SCIENTIST, query, vars);
      expect(codeOf(r), JSON.stringify(vars).slice(0, 80)).toBe(code);
      expect(r.errors?.[0]?.message).toMatch(message);
      expect(await registryState()).toEqual(before);
    }
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "r" }))
      .proposePromotion;
    const before = await registryState();
    const r = await api.gql(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false });
    expect(codeOf(r)).toBe("BAD_USER_INPUT");
    expect(r.errors?.[0]?.message).toMatch(/note is required to reject/);
    expect(await registryState()).toEqual(before);
  });

  it("lets a rollback lose a class the champion has (the way back past a promotion that added one), telling the approver", async () => {
    const champion = await api.prisma.modelVersion.findFirstOrThrow({ where: { status: "CHAMPION" } });
    expect(champion.labels).toContain("lymphocyte");
    const earlier = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, status: "ARCHIVED", labels: ["car_t", "neutrophil"] });
    const rollback = (await api.gqlOk(tokens.DATA_SCIENTIST, ROLLBACK, { reason: "the new one misreads CAR-T cells", id: earlier.id })).proposeRollback;
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: rollback.id, action: "model.proposeRollback" } });
    const lost = champion.labels.filter((l) => l !== "car_t" && l !== "neutrophil");
    expect((event.after as { lostClasses?: string[] }).lostClasses).toEqual(lost);
    const listed = (await api.gqlOk(tokens.ADMIN, `{ modelPromotions { nodes { id lostClasses } } }`)).modelPromotions.nodes;
    expect(listed.find((n: { id: string }) => n.id === rollback.id).lostClasses).toEqual(lost);
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: rollback.id, approve: true, note: "emergency" });
    expect((await api.prisma.modelVersion.findUniqueOrThrow({ where: { id: earlier.id } })).status).toBe("CHAMPION");
    // Put the champion back for the tests after this one.
    const back = (await api.gqlOk(tokens.DATA_SCIENTIST, ROLLBACK, { reason: "restore", id: champion.id })).proposeRollback;
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: back.id, approve: true, note: "restore" });
  });

  it("lets readers list versions and proposals, and refuses other roles", async () => {
    const LIST = `{ modelVersions(first: 2) { nodes { id status metrics predictionCount } pageInfo { hasNextPage endCursor } }
      modelPromotions { nodes { id state } } championModel { id } }`;
    for (const role of ["DATA_SCIENTIST", "ADMIN", "AUDITOR"] as Role[]) {
      const data = await api.gqlOk(tokens[role], LIST);
      expect(data.modelVersions.nodes).toHaveLength(2);
      expect(data.modelVersions.pageInfo.hasNextPage).toBe(true);
      expect(data.championModel.id).toBeTruthy();
    }
    for (const role of ["HEMATOLOGIST", "TECHNICIAN"] as Role[]) {
      expect(codeOf(await api.gql(tokens[role], LIST)), role).toBe("FORBIDDEN");
    }
    const first = await api.gqlOk(tokens.ADMIN, LIST);
    const next = await api.gqlOk(
      tokens.ADMIN,
      `query($after: String) { modelVersions(first: 2, after: $after) { nodes { id } } }`,
      {
        after: first.modelVersions.pageInfo.endCursor,
      },
    );
    const firstIds = first.modelVersions.nodes.map((n: { id: string }) => n.id);
    expect(next.modelVersions.nodes.length).toBeGreaterThan(0);
    for (const n of next.modelVersions.nodes) expect(firstIds).not.toContain(n.id);
    expect(codeOf(await api.gql(tokens.ADMIN, `{ modelVersions(after: "bogus!") { nodes { id } } }`))).toBe(
      "BAD_USER_INPUT",
    );
  });
});

describe("promotion evidence", () => {
  /**
   * An evaluation on 10 car_t and 10 lymphocyte TEST cells (`ids`, in the snapshot's order) that
   * keeps each cell's call, as evaluations do since 2026-11-27: cell i called right where `right(i)`.
   */
  function evaluationWithCalls(ids: string[], right: (i: number) => boolean) {
    const truth = ids.map((_, i) => (i < 10 ? "car_t" : "lymphocyte"));
    const predicted = truth.map((t, i) => ({ label: right(i) ? t : t === "car_t" ? "lymphocyte" : "car_t", abstained: false }));
    return withoutLeakage(evaluatePredictions(truth, predicted, [], ids));
  }
  const cellIds = () => Array.from({ length: 20 }, () => randomUUID()).sort();

  it("refuses a candidate below the champion without the acknowledgement, naming the figures; files it with one, audited with the evidence", async () => {
    const snap = "00000000-0000-4000-8000-000000000a01";
    await insertSnapshot(snap, "regression-check", new Date("2026-11-01T00:00:00Z"));
    const champion = await api.prisma.modelVersion.findFirstOrThrow({ where: { status: "CHAMPION" } });
    await evaluate(champion.id, { [snap]: evaluation(10) });
    // It also knows eosinophils, which this TEST part has none of: stored as a training run
    // stores it (without rows for the model's classes), read with a row of support 0.
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, labels: ["car_t", "eosinophil", "lymphocyte"] });
    await evaluate(candidate.id, { [snap]: evaluation(6) });

    const before = await registryState();
    const refused = await api.gql(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "newer data" });
    expect(codeOf(refused)).toBe("CONFLICT");
    expect(refused.errors?.[0]?.message).toMatch(/is below the champion .+ \(point estimates\) on the TEST part of snapshot regression-check \(20 cells\): macro-F1 \d+\.\d% against 100\.0%; lymphocyte recall 60\.0% against 100\.0% \(10 cells\)\. Propose again acknowledging the regression \(acceptRegression\)/);
    expect(await registryState()).toEqual(before);

    const ACCEPT = `mutation($id: ID!, $reason: String!) { proposePromotion(modelVersionId: $id, reason: $reason, acceptRegression: true) { id state } }`;
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, ACCEPT, { id: candidate.id, reason: "worse on lymphocytes, accepted: it calls eosinophils" })).proposePromotion;
    expect(proposal.state).toBe("PROPOSED");
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: proposal.id, action: "model.proposePromotion" } });
    expect(event.after).toMatchObject({ comparedOnSnapshotId: snap, testCells: 20, acceptedRegression: true, untestedLabels: ["eosinophil"] });
    expect((event.after as { regressions: unknown[] }).regressions).toHaveLength(2);

    const EVIDENCE = `{ modelPromotions { nodes { id evidence { snapshot { name } testCells untestedLabels acceptedRegression
      regressions { measure label candidate champion support } accuracyDifference { difference lower upper }
      candidate { correct abstained perClass { label recall support } } champion { correct abstained perClass { label recall support } } } } } }`;
    const { evidence } = (await api.gqlOk(tokens.ADMIN, EVIDENCE)).modelPromotions.nodes.find((n: { id: string }) => n.id === proposal.id);
    expect(evidence).toMatchObject({
      snapshot: { name: "regression-check" },
      testCells: 20,
      untestedLabels: ["eosinophil"],
      acceptedRegression: true,
      regressions: [{ measure: "macroF1", label: null }, { measure: "recall", label: "lymphocyte", candidate: 0.6, champion: 1, support: 10 }],
      candidate: {
        correct: 16,
        // Abstentions are stated beside top-1 (counted as wrong there): none in this evaluation.
        abstained: 0,
        perClass: [
          { label: "car_t", recall: 1, support: 10 },
          { label: "eosinophil", recall: null, support: 0 },
          { label: "lymphocyte", recall: 0.6, support: 10 },
        ],
      },
      champion: { correct: 20 },
    });
    // 80% against 100% of 20 cells: -20 points, and an interval that says how little 20 cells
    // tell (from about -42 points to just above 0).
    expect(evidence.accuracyDifference.difference).toBeCloseTo(-0.2);
    expect(evidence.accuracyDifference.lower).toBeLessThan(-0.4);
    expect(evidence.accuracyDifference.upper).toBeGreaterThan(0);
    expect(evidence.accuracyDifference.upper).toBeLessThan(0.01);
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not worse" });
  });

  it("compares on the newest of the shared snapshots where neither model leaks, whatever their ids", async () => {
    const older = "00000000-0000-4000-8000-000000000b01";
    const newer = "00000000-0000-4000-8000-000000000b02";
    await insertSnapshot(older, "older", new Date("2026-10-01T00:00:00Z"));
    await insertSnapshot(newer, "newer", new Date("2026-11-20T00:00:00Z"));
    const champion = await api.prisma.modelVersion.findFirstOrThrow({ where: { status: "CHAMPION" } });
    await evaluate(champion.id, { [older]: evaluation(10), [newer]: evaluation(10) });
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(candidate.id, { [older]: evaluation(10), [newer]: evaluation(10) });
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "as good, newer data" })).proposePromotion;
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: proposal.id, action: "model.proposePromotion" } });
    expect(event.after).toMatchObject({ comparedOnSnapshotId: newer, snapshotName: "newer", acceptedRegression: false, regressions: [] });
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not now" });
  });

  it("refuses a proposal whose TEST part an amendment has relabelled since the snapshot, and a comparison reports the count", async () => {
    const tech = await api.createUser("TECHNICIAN");
    const hema = await api.createUser("HEMATOLOGIST");
    const signed = await insertCaseWithCells(api.prisma, { createdById: tech.user.id, reviewerId: hema.user.id, status: "SIGNED_OUT", cells: [{ reviews: ["car_t"] }, { reviews: ["car_t"] }] });
    const [inTest, inTrain] = signed.cells;
    const snap = "00000000-0000-4000-8000-000000000c01";
    // The newest snapshot both share: the one the proposal rests on.
    await insertSnapshot(snap, "before-amendment", new Date("2026-11-25T00:00:00Z"), [
      { cellId: inTest!.id, label: "car_t", split: "TEST" },
      { cellId: inTrain!.id, label: "car_t", split: "TRAIN" },
    ]);
    const champion = await api.prisma.modelVersion.findFirstOrThrow({ where: { status: "CHAMPION" } });
    await evaluate(champion.id, { [snap]: evaluation(10) });
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(candidate.id, { [snap]: evaluation(10) });

    // The amendment: the signed case reopened, its TEST cell reclassified, signed again.
    await api.prisma.case.update({ where: { id: signed.case.id }, data: { status: "IN_REVIEW" } });
    await api.prisma.review.create({ data: { cellId: inTest!.id, seq: 2, reviewerId: hema.user.id, action: "RECLASSIFY", label: "lymphocyte", previousLabel: "car_t", reason: "amendment" } });
    await api.prisma.cell.update({ where: { id: inTest!.id }, data: { currentLabel: "lymphocyte", reviewCount: 2 } });
    await signCaseForTest(api.prisma, signed.case.id, { signerId: hema.user.id });

    const before = await registryState();
    const refused = await api.gql(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "as good" });
    expect(codeOf(refused)).toBe("CONFLICT");
    expect(refused.errors?.[0]?.message).toMatch(/^1 TEST cell of snapshot before-amendment, where the two were compared, no longer holds the label it was frozen with \(relabelled by an amendment, .*\): both models were scored against labels since withdrawn\. Take a new snapshot/);
    expect(await registryState()).toEqual(before);

    const COMPARE = `query($a: ID!, $b: ID!, $s: ID!) { compareModels(a: $a, b: $b, snapshotId: $s) { testCount relabelledTestCells untestedLabels } }`;
    const compared = (await api.gqlOk(tokens.DATA_SCIENTIST, COMPARE, { a: candidate.id, b: champion.id, s: snap })).compareModels;
    expect(compared).toEqual({ testCount: 1, relabelledTestCells: 1, untestedLabels: [] });
  });

  it("refuses a proposal whose TEST part holds cells of a case whose report was since retracted (their labels kept), and a comparison counts them", async () => {
    const tech = await api.createUser("TECHNICIAN");
    const hema = await api.createUser("HEMATOLOGIST");
    const signed = await insertCaseWithCells(api.prisma, { createdById: tech.user.id, reviewerId: hema.user.id, status: "SIGNED_OUT", cells: [{ reviews: ["car_t"] }] });
    const snap = "00000000-0000-4000-8000-000000000c02";
    await insertSnapshot(snap, "before-retraction", new Date("2026-11-26T00:00:00Z"), [{ cellId: signed.cells[0]!.id, label: "car_t", split: "TEST" }]);
    const champion = await api.prisma.modelVersion.findFirstOrThrow({ where: { status: "CHAMPION" } });
    await evaluate(champion.id, { [snap]: evaluation(10) });
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(candidate.id, { [snap]: evaluation(10) });
    // Retracted with its cells and labels untouched (a clotted specimen): no valid result, so no label to score against.
    await api.prisma.case.update({ where: { id: signed.case.id }, data: { status: "IN_REVIEW" } });
    await signCaseForTest(api.prisma, signed.case.id, { signerId: hema.user.id, meaning: RETRACTION_MEANING });

    const before = await registryState();
    const refused = await api.gql(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "as good" });
    expect(codeOf(refused)).toBe("CONFLICT");
    expect(refused.errors?.[0]?.message).toMatch(/^1 TEST cell of snapshot before-retraction, where the two were compared, no longer holds the label it was frozen with \(.*or its case's report retracted\)/);
    expect(await registryState()).toEqual(before);
    const COMPARE = `query($a: ID!, $b: ID!, $s: ID!) { compareModels(a: $a, b: $b, snapshotId: $s) { relabelledTestCells } }`;
    expect((await api.gqlOk(tokens.DATA_SCIENTIST, COMPARE, { a: candidate.id, b: champion.id, s: snap })).compareModels).toEqual({ relabelledTestCells: 1 });
  });

  it("refuses to approve a proposal whose TEST part an amendment relabelled after it was filed, changing nothing", async () => {
    const tech = await api.createUser("TECHNICIAN");
    const hema = await api.createUser("HEMATOLOGIST");
    const signed = await insertCaseWithCells(api.prisma, { createdById: tech.user.id, reviewerId: hema.user.id, status: "SIGNED_OUT", cells: [{ reviews: ["car_t"] }] });
    const [inTest] = signed.cells;
    const snap = "00000000-0000-4000-8000-000000000d01";
    await insertSnapshot(snap, "filed-before-amendment", new Date("2026-11-26T00:00:00Z"), [{ cellId: inTest!.id, label: "car_t", split: "TEST" }]);
    const champion = await api.prisma.modelVersion.findFirstOrThrow({ where: { status: "CHAMPION" } });
    await evaluate(champion.id, { [snap]: evaluation(10) });
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(candidate.id, { [snap]: evaluation(10) });
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "as good, newer data" })).proposePromotion;
    expect(proposal.state).toBe("PROPOSED");

    // Filed; then an amendment relabels the TEST cell the figures were measured on.
    await api.prisma.case.update({ where: { id: signed.case.id }, data: { status: "IN_REVIEW" } });
    await api.prisma.review.create({ data: { cellId: inTest!.id, seq: 2, reviewerId: hema.user.id, action: "RECLASSIFY", label: "lymphocyte", previousLabel: "car_t", reason: "amendment" } });
    await api.prisma.cell.update({ where: { id: inTest!.id }, data: { currentLabel: "lymphocyte", reviewCount: 2 } });
    await signCaseForTest(api.prisma, signed.case.id, { signerId: hema.user.id });

    const before = await registryState();
    const refused = await api.gql(tokens.ADMIN, DECIDE, { id: proposal.id, approve: true });
    expect(codeOf(refused)).toBe("CONFLICT");
    expect(refused.errors?.[0]?.message).toMatch(/^1 TEST cell of the snapshot this proposal was compared on no longer holds the label it was frozen with \(relabelled by an amendment, .*\): its figures score both models against labels since withdrawn\. Reject it/);
    expect(await registryState()).toEqual(before);
    // Rejecting it stays possible.
    const rejected = (await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "labels corrected since" })).decidePromotion;
    expect(rejected.state).toBe("REJECTED");
  });
  const PAIRED_EVIDENCE = `{ modelPromotions { nodes { id evidence { testCells minTestCells accuracyDifference { difference lower upper } pairing pairingNote
    paired { itemsSha256 cells bothRight candidateOnlyRight championOnlyRight bothWrong mcnemarP mcnemarTest difference lower upper }
    regressions { measure label candidate champion support paired { candidateOnlyRight championOnlyRight mcnemarP mcnemarTest } }
    candidate { perClass { label recall support recallCi95 } } champion { perClass { label recall support recallCi95 } } } } } }`;
  const ACCEPT = `mutation($id: ID!, $reason: String!) { proposePromotion(modelVersionId: $id, reason: $reason, acceptRegression: true) { id state } }`;
  /** The champion the earlier tests left, or one (these tests also run alone). */
  const currentChampion = async () =>
    (await api.prisma.modelVersion.findFirst({ where: { status: "CHAMPION" } })) ?? (await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, status: "CHAMPION" }));
  const evidenceOf = async (id: string) => (await api.gqlOk(tokens.ADMIN, PAIRED_EVIDENCE)).modelPromotions.nodes.find((n: { id: string }) => n.id === id).evidence;

  it("freezes the comparison cell by cell (b, c, McNemar's mid-p, the paired interval) and each class's recall interval, and a class's regression with its paired counts", async () => {
    const snap = "00000000-0000-4000-8000-000000000e01";
    await insertSnapshot(snap, "paired", new Date("2026-11-27T00:00:00Z"));
    const ids = cellIds();
    const champion = await currentChampion();
    // Champion: every lymphocyte, 6 of 10 CAR-T cells. Candidate: every CAR-T cell, 9 of 10 lymphocytes.
    await evaluate(champion.id, { [snap]: evaluationWithCalls(ids, (i) => i >= 10 || i < 6) });
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(candidate.id, { [snap]: evaluationWithCalls(ids, (i) => i !== 19) });
    // A lymphocyte recall 1 cell below the champion's: a regression, acknowledged.
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, ACCEPT, { id: candidate.id, reason: "better on CAR-T cells" })).proposePromotion;

    // 15 both right, 4 only the candidate (b), 1 only the champion (c): McNemar mid-p
    // 2 (1 + 5 - 5/2) / 32 = 7/32 (the exact test's 0.375 less P(X = 1));
    // Newcombe's paired interval for (15, 4, 1, 0) is -0.0823 to 0.3745, rounded outwards.
    const paired = { cells: 20, bothRight: 15, candidateOnlyRight: 4, championOnlyRight: 1, bothWrong: 0, mcnemarP: 0.21875, mcnemarTest: "MID_P", difference: 0.15, lower: -0.083, upper: 0.375 };
    // The lymphocyte regression, cell by cell: 0 lymphocytes only the candidate got right, 1 only the champion: mid-p 1/2.
    const lymphocytes = { measure: "recall", label: "lymphocyte", candidate: 0.9, champion: 1, support: 10, paired: { candidateOnlyRight: 0, championOnlyRight: 1, mcnemarP: 0.5, mcnemarTest: "MID_P" } };
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: proposal.id, action: "model.proposePromotion" } });
    expect(event.after).toMatchObject({ pairing: { status: "PAIRED" }, paired: { ...paired, itemsSha256: expect.stringMatching(/^[0-9a-f]{64}$/) }, regressions: [lymphocytes] });
    const evidence = await evidenceOf(proposal.id);
    expect(evidence).toMatchObject({ pairing: "PAIRED", pairingNote: null, paired, regressions: [lymphocytes] });
    expect(evidence.paired.difference).toBeCloseTo(0.15, 12);
    // The counts' interval is still recorded beside it. Here it is the narrower one: the two err on
    // different cells (negatively correlated), which treating them as independent hides.
    expect(evidence.accuracyDifference.upper - evidence.accuracyDifference.lower).toBeLessThan(paired.upper - paired.lower);
    // Each class's recall with its Wilson interval: 9 of 10 against 10 of 10 overlap widely.
    expect(evidence.candidate.perClass).toEqual([
      { label: "car_t", recall: 1, support: 10, recallCi95: [0.722, 1] },
      { label: "lymphocyte", recall: 0.9, support: 10, recallCi95: [0.595, 0.983] },
    ]);
    expect(evidence.champion.perClass).toEqual([
      { label: "car_t", recall: 0.6, support: 10, recallCi95: [0.312, 0.832] },
      { label: "lymphocyte", recall: 1, support: 10, recallCi95: [0.722, 1] },
    ]);

    // Frozen: a later evaluation rewriting the candidate's cache changes nothing the admin weighs.
    await evaluate(candidate.id, { [snap]: evaluationWithCalls(ids, () => true) });
    expect(await evidenceOf(proposal.id)).toEqual(evidence);
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not now" });
  });

  it("refuses to pair evaluations on different TEST items, flagging it; evaluations without calls fall back to the unpaired interval, saying so", async () => {
    const champion = await currentChampion();
    const snap = "00000000-0000-4000-8000-000000000e02";
    await insertSnapshot(snap, "mismatched", new Date("2026-11-27T01:00:00Z"));
    const ids = cellIds();
    await evaluate(champion.id, { [snap]: evaluationWithCalls(ids, () => true) });
    // The candidate's evaluation stored under the same snapshot id, but on other cells.
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(candidate.id, { [snap]: evaluationWithCalls([...ids.slice(1), randomUUID()], () => true) });
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "as good" })).proposePromotion;
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: proposal.id, action: "model.proposePromotion" } });
    expect(event.after).toMatchObject({ pairing: { status: "DIFFERENT_ITEMS", note: expect.stringMatching(/different TEST items/) } });
    expect(event.after).not.toHaveProperty("paired");
    const evidence = await evidenceOf(proposal.id);
    expect(evidence).toMatchObject({ pairing: "DIFFERENT_ITEMS", paired: null, pairingNote: expect.stringMatching(/^The two evaluations were made on different TEST items \(20 and 20 cells, in lists that differ\): not paired/) });
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not on the same cells" });

    // An evaluation stored before calls were kept, against one that keeps them: unpaired, and said.
    const older = "00000000-0000-4000-8000-000000000e03";
    await insertSnapshot(older, "older-evaluation", new Date("2026-11-27T02:00:00Z"));
    await evaluate(champion.id, { [older]: evaluationWithCalls(ids, () => true) });
    const another = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(another.id, { [older]: evaluation(10) });
    const second = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: another.id, reason: "as good" })).proposePromotion;
    const unpaired = await evidenceOf(second.id);
    expect(unpaired).toMatchObject({
      pairing: "NOT_RECORDED",
      paired: null,
      pairingNote: expect.stringMatching(/^The candidate's evaluation on this snapshot was stored before each TEST cell's call was kept: the accuracy difference is unpaired/),
      accuracyDifference: { difference: 0 },
    });
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: second.id, approve: false, note: "not now" });
  });

  it("flags an evaluation whose per-cell calls contradict its own figures as INCONSISTENT, recorded and read back, not as an older evaluation", async () => {
    const champion = await currentChampion();
    const snap = "00000000-0000-4000-8000-000000000e04";
    await insertSnapshot(snap, "altered-calls", new Date("2026-11-27T03:00:00Z"));
    const ids = cellIds();
    await evaluate(champion.id, { [snap]: evaluationWithCalls(ids, () => true) });
    // The candidate's stored accuracy edited after the fact: 20 of 20, while its calls give 19.
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    const altered = evaluationWithCalls(ids, (i) => i !== 0);
    await evaluate(candidate.id, { [snap]: { ...altered, accuracy: 1 } });
    // Its per-class figures are the calls' (car_t 9 of 10): a regression, acknowledged.
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, ACCEPT, { id: candidate.id, reason: "as good" })).proposePromotion;
    const note = expect.stringMatching(/^The candidate's evaluation on this snapshot keeps per-cell calls that contradict its own figures \(19 of 20 cells right in the calls, 20 by its accuracy\): a damaged or altered record\. Not paired/);
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: proposal.id, action: "model.proposePromotion" } });
    expect(event.after).toMatchObject({ pairing: { status: "INCONSISTENT", note } });
    expect(event.after).not.toHaveProperty("paired");
    expect(await evidenceOf(proposal.id)).toMatchObject({ pairing: "INCONSISTENT", pairingNote: note, paired: null });
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "figures in doubt" });
  });

  it("refuses a replacement compared on a TEST part below RCMNET_MIN_TEST_CELLS (none at all included: not a server error), changing nothing; files one at exactly the minimum, with the minimum frozen", async () => {
    const champion = await currentChampion();
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    const snap = "00000000-0000-4000-8000-000000000e05";
    await insertSnapshot(snap, "empty-test", new Date("2026-11-27T04:00:00Z"));
    const empty = withoutLeakage(evaluatePredictions([], [], [], []));
    await evaluate(champion.id, { [snap]: empty });
    await evaluate(candidate.id, { [snap]: empty });
    let before = await registryState();
    let r = await api.gql(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "nothing to compare" });
    expect(codeOf(r)).toBe("CONFLICT");
    expect(r.errors?.[0]?.message).toMatch(/^The TEST part of snapshot empty-test, where .+ and the champion .+ were compared, has 0 cells: a promotion rests on at least 20 \(RCMNET_MIN_TEST_CELLS\)/);
    expect(await registryState()).toEqual(before);

    // One cell short, on a newer snapshot: refused the same way, nothing stored.
    const short = "00000000-0000-4000-8000-000000000e06";
    await insertSnapshot(short, "one-short", new Date("2026-11-27T05:00:00Z"));
    await evaluate(champion.id, { [short]: evaluationOf(MIN_TEST_CELLS - 1) });
    await evaluate(candidate.id, { [short]: evaluationOf(MIN_TEST_CELLS - 1) });
    before = await registryState();
    r = await api.gql(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "as good" });
    expect(codeOf(r)).toBe("CONFLICT");
    expect(r.errors?.[0]?.message).toBe(
      `The TEST part of snapshot one-short, where ${candidate.name} ${candidate.version} and the champion ${champion.name} ${champion.version} were compared, has 19 cells: a promotion rests on at least 20 (RCMNET_MIN_TEST_CELLS), and no other snapshot both were evaluated on has as many. Take a larger snapshot (more signed-out cases), compare the two on its TEST part, then propose`,
    );
    expect(r.errors?.[0]?.extensions).toMatchObject({ testCells: 19, minTestCells: 20, snapshotId: short });
    expect(await registryState()).toEqual(before);

    // Exactly the minimum: filed, and the admin sees the rule it passed.
    const exact = "00000000-0000-4000-8000-000000000e07";
    await insertSnapshot(exact, "exactly-enough", new Date("2026-11-27T06:00:00Z"));
    await evaluate(champion.id, { [exact]: evaluationOf(MIN_TEST_CELLS) });
    await evaluate(candidate.id, { [exact]: evaluationOf(MIN_TEST_CELLS) });
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: candidate.id, reason: "as good" })).proposePromotion;
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: proposal.id, action: "model.proposePromotion" } });
    expect(event.after).toMatchObject({ comparedOnSnapshotId: exact, testCells: 20, minTestCells: 20 });
    expect(await evidenceOf(proposal.id)).toMatchObject({ testCells: 20, minTestCells: 20 });
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not now" });
  });

  it("reads a paired comparison frozen before the switch to mid-p as the exact p it is, and an unreadable record filed then as INCONSISTENT", async () => {
    const champion = await currentChampion();
    const proposer = await api.prisma.user.findFirstOrThrow({ where: { role: "DATA_SCIENTIST" } });
    const file = async (after: Record<string, unknown>) => {
      const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
      const promotion = await api.prisma.modelPromotion.create({
        data: { modelVersionId: candidate.id, kind: "PROMOTE", reason: "filed earlier", proposedById: proposer.id, replacesChampionId: champion.id },
      });
      await api.prisma.auditEvent.create({
        data: { actorId: proposer.id, actorLogin: proposer.login, action: "model.proposePromotion", entityType: "ModelPromotion", entityId: promotion.id, after: { comparedOnSnapshotId: SNAP, testCells: 20, ...after } as never },
      });
      return promotion;
    };
    // What proposePromotion froze before: the exact p (0.375 for 4 against 1), no mcnemarTest.
    const paired = { itemsSha256: "a".repeat(64), cells: 20, bothRight: 15, candidateOnlyRight: 4, championOnlyRight: 1, bothWrong: 0, mcnemarP: 0.375, difference: 0.15, lower: -0.083, upper: 0.375 };
    const exact = await file({ pairing: { status: "PAIRED" }, paired, regressions: [{ measure: "recall", label: "lymphocyte", candidate: 0.9, champion: 1, support: 10 }] });
    expect(await evidenceOf(exact.id)).toMatchObject({
      pairing: "PAIRED",
      paired: { ...paired, mcnemarTest: "EXACT" },
      regressions: [{ label: "lymphocyte", paired: null }],
    });
    // Then a damaged record was filed as NOT_RECORDED ("keeps no readable call"): read as the warning it is.
    const damaged = await file({
      pairing: { status: "NOT_RECORDED", note: "The candidate's evaluation on this snapshot keeps no readable call for each TEST cell: the accuracy difference is unpaired" },
    });
    expect(await evidenceOf(damaged.id)).toMatchObject({ pairing: "INCONSISTENT", pairingNote: expect.stringMatching(/keeps no readable call/), paired: null });
    for (const p of [exact, damaged]) await api.gqlOk(tokens.ADMIN, DECIDE, { id: p.id, approve: false, note: "old" });
  });

  it("reads a proposal filed before pairing was recorded as unpaired, saying so, with recall intervals from its frozen figures", async () => {
    const champion = await currentChampion();
    const candidate = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    const proposer = await api.prisma.user.findFirstOrThrow({ where: { role: "DATA_SCIENTIST" } });
    // What proposePromotion recorded before 2026-11-27's change: figures, no pairing.
    const promotion = await api.prisma.modelPromotion.create({
      data: { modelVersionId: candidate.id, kind: "PROMOTE", reason: "filed earlier", proposedById: proposer.id, replacesChampionId: champion.id },
    });
    const perClass = [{ label: "car_t", recall: 0.75, support: 4 }];
    await api.prisma.auditEvent.create({
      data: {
        actorId: proposer.id,
        actorLogin: proposer.login,
        action: "model.proposePromotion",
        entityType: "ModelPromotion",
        entityId: promotion.id,
        after: { comparedOnSnapshotId: SNAP, testCells: 4, figures: { candidate: { accuracy: 0.75, macroF1: 0.75, correct: 3, perClass }, champion: { accuracy: 1, macroF1: 1, correct: 4, perClass: [{ label: "car_t", recall: 1, support: 4 }] } }, accuracyDifference: { difference: -0.25, lower: -0.7, upper: 0.2 } },
      },
    });
    expect(await evidenceOf(promotion.id)).toMatchObject({
      // Filed before the minimum existed: not recorded, not the minimum of today.
      testCells: 4,
      minTestCells: null,
      pairing: "NOT_RECORDED",
      paired: null,
      pairingNote: expect.stringMatching(/^Filed before the paired comparison was recorded \(2026-11-27\): the accuracy difference is unpaired/),
      accuracyDifference: { difference: -0.25, lower: -0.7, upper: 0.2 },
      candidate: { perClass: [{ label: "car_t", recall: 0.75, support: 4, recallCi95: [0.3, 0.955] }] },
      champion: { perClass: [{ label: "car_t", recall: 1, support: 4, recallCi95: [0.51, 1] }] },
    });
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: promotion.id, approve: false, note: "old" });
  });

  it("freezes how many model versions were scored on its TEST part (winner's curse), the champion compared with not counted", async () => {
    const champion = await currentChampion();
    await new Promise((r) => setTimeout(r, 10));
    // Taken after the champion was registered; the champion is scored on it for the comparison.
    const snap = "00000000-0000-4000-8000-000000000c51";
    await insertSnapshot(snap, "several-seeds", await databaseNow(api.prisma));
    await evaluate(champion.id, { [snap]: evaluation(10) });
    // Two runs on it (two seeds), each scored on its TEST part; the better one is proposed.
    const seed1 = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    const seed2 = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(seed1.id, { [snap]: evaluation(9) });
    await evaluate(seed2.id, { [snap]: evaluation(10) });
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, ACCEPT, { id: seed2.id, reason: "the better seed" })).proposePromotion;
    const SCORED = `{ modelPromotions { nodes { id evidence { snapshotId candidatesScoredOnTest } } } }`;
    const scoredOf = async () => (await api.gqlOk(tokens.ADMIN, SCORED)).modelPromotions.nodes.find((n: { id: string }) => n.id === proposal.id).evidence;
    expect(await scoredOf()).toEqual({ snapshotId: snap, candidatesScoredOnTest: 2 });
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: proposal.id, action: "model.proposePromotion" } });
    expect(event.after).toMatchObject({ comparedOnSnapshotId: snap, candidatesScoredOnTest: 2 });
    // Frozen: a third version scored there later does not change what was proposed on.
    const seed3 = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(seed3.id, { [snap]: evaluation(10) });
    expect(await scoredOf()).toEqual({ snapshotId: snap, candidatesScoredOnTest: 2 });
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not now" });
  });

  it("counts models registered from a directory before the snapshot and scored on its TEST part, the candidate among them", async () => {
    const champion = await currentChampion();
    // Two outside models registered by path, then a snapshot taken, then all compared on it.
    const first = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    const second = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await new Promise((r) => setTimeout(r, 10));
    const snap = "00000000-0000-4000-8000-000000000c52";
    await insertSnapshot(snap, "outside-models", await databaseNow(api.prisma));
    await evaluate(champion.id, { [snap]: evaluation(10) });
    await evaluate(first.id, { [snap]: evaluation(9) });
    await evaluate(second.id, { [snap]: evaluation(10) });
    const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, ACCEPT, { id: second.id, reason: "the better outside model" })).proposePromotion;
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: proposal.id, action: "model.proposePromotion" } });
    // The two contenders; the champion, the baseline both were scored against, is not one.
    expect(event.after).toMatchObject({ comparedOnSnapshotId: snap, candidatesScoredOnTest: 2 });
    await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not now" });
  });

  it("tells how many TEST labels are bulk confirmations of AI calls: frozen with the proposal, counted by a comparison, not recorded for older snapshots", async () => {
    const tech = await api.createUser("TECHNICIAN");
    const hema = await api.createUser("HEMATOLOGIST");
    const { cells } = await insertCaseWithCells(api.prisma, { createdById: tech.user.id, reviewerId: hema.user.id, status: "SIGNED_OUT", cells: Array.from({ length: 4 }, () => ({ reviews: ["car_t"] })) });
    const [a, b, c, d] = cells.map((cell) => cell.id);
    // Taken before it was recorded (bulkConfirmed null), and since: 2 of its 3 TEST labels confirmed
    // in bulk (the TRAIN one does not count).
    const before = "00000000-0000-4000-8000-000000000f01";
    const since = "00000000-0000-4000-8000-000000000f02";
    await insertSnapshot(before, "bulk-not-recorded", new Date("2026-11-27T10:00:00Z"), [
      { cellId: a!, label: "car_t", split: "TEST" },
      { cellId: b!, label: "car_t", split: "TEST" },
    ]);
    await insertSnapshot(since, "bulk-recorded", new Date("2026-11-28T10:00:00Z"), [
      { cellId: a!, label: "car_t", split: "TEST", bulkConfirmed: true },
      { cellId: b!, label: "car_t", split: "TEST", bulkConfirmed: true },
      { cellId: c!, label: "car_t", split: "TEST", bulkConfirmed: false },
      { cellId: d!, label: "car_t", split: "TRAIN", bulkConfirmed: true },
    ]);
    const champion = await currentChampion();
    await evaluate(champion.id, { [before]: evaluation(10), [since]: evaluation(10) });
    const recorded = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(recorded.id, { [since]: evaluation(10) });
    const unrecorded = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir });
    await evaluate(unrecorded.id, { [before]: evaluation(10) });

    const COMPARE = `query($a: ID!, $b: ID!, $s: ID!) { compareModels(a: $a, b: $b, snapshotId: $s) { testCount bulkConfirmedTestCells } }`;
    expect((await api.gqlOk(tokens.DATA_SCIENTIST, COMPARE, { a: recorded.id, b: champion.id, s: since })).compareModels).toEqual({ testCount: 3, bulkConfirmedTestCells: 2 });
    expect((await api.gqlOk(tokens.DATA_SCIENTIST, COMPARE, { a: unrecorded.id, b: champion.id, s: before })).compareModels).toEqual({ testCount: 2, bulkConfirmedTestCells: null });

    const BULK_EVIDENCE = `{ modelPromotions { nodes { id evidence { snapshotId testCells bulkConfirmedTestCells } } } }`;
    const bulkOf = async (id: string) => (await api.gqlOk(tokens.ADMIN, BULK_EVIDENCE)).modelPromotions.nodes.find((n: { id: string }) => n.id === id).evidence;
    for (const [version, snapshotId, bulk] of [[recorded, since, 2], [unrecorded, before, null]] as const) {
      const proposal = (await api.gqlOk(tokens.DATA_SCIENTIST, PROPOSE, { id: version.id, reason: "as good" })).proposePromotion;
      expect(await bulkOf(proposal.id)).toEqual({ snapshotId, testCells: 20, bulkConfirmedTestCells: bulk });
      const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: proposal.id, action: "model.proposePromotion" } });
      if (bulk === null) expect(event.after).not.toHaveProperty("bulkConfirmedTestCells");
      else expect(event.after).toMatchObject({ comparedOnSnapshotId: snapshotId, testCells: 20, bulkConfirmedTestCells: bulk });
      await api.gqlOk(tokens.ADMIN, DECIDE, { id: proposal.id, approve: false, note: "not now" });
    }
  });
});

describe("a promotion decision's time", () => {
  it("is the database's, not this host's, even when this host's clock is an hour off", async () => {
    // A rollback proposal filed by a data scientist, decided (rejected: no champion changes) by an admin.
    const archived = await insertModelVersion(api.prisma, { dataDir: api.env.dataDir, status: "ARCHIVED" });
    const proposer = (await api.createUser("DATA_SCIENTIST")).user;
    const admin = (await api.createUser("ADMIN")).user;
    const proposal = await api.prisma.modelPromotion.create({
      data: { modelVersionId: archived.id, kind: "ROLLBACK", reason: "back to the earlier one", proposedById: proposer.id },
    });
    // Faked around the decision alone: the request's session and token checks read this host's clock.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 3_600_000);
      const actor = { id: admin.id, login: admin.login, displayName: admin.displayName, role: admin.role };
      const decided = await decidePromotion(api.prisma, api.env.dataDir, actor, { id: proposal.id, approve: false, note: "not needed" });
      expect(decided.state).toBe("REJECTED");
    } finally {
      vi.useRealTimers();
    }
    const stored = await api.prisma.modelPromotion.findUniqueOrThrow({ where: { id: proposal.id } });
    expect(Math.abs(stored.decidedAt!.getTime() - (await databaseNow(api.prisma)).getTime())).toBeLessThan(60_000);
  });
});
