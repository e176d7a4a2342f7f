// Step one of the two-person rule: a DATA_SCIENTIST proposes that a model version become the
// champion; an ADMIN (someone else) decides (decidePromotion.ts).
import type { ModelPromotion, ModelVersion, Prisma, PrismaClient } from "@rcmnet/db";
import type { AuthUser, Context } from "../../context.ts";
import { badInput, conflict, notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { fileProposal } from "./fileProposal.ts";
import { testLeakage } from "../../jobs/model/testLeakage.ts";
import { cachedEvaluation } from "../../jobs/model/evaluateOnSnapshot.ts";
import { accuracyDifference95, describeRegression, figuresOf, regressionsOf, untestedLabelsOf } from "./promotionFigures.ts";
import { relabelledTestCells } from "./relabelledTest.ts";
import { noLongerHeld } from "../training/noLongerHeld.ts";
import { bulkConfirmedTestCells } from "../training/bulkConfirmed.ts";
import { pairEvaluations } from "./pairedComparison.ts";

export const MAX_REASON = 2000;

export function requireReason(reason: string, field = "reason"): string {
  const text = reason.trim();
  if (text.length === 0) throw badInput(`A ${field} is required`, { field });
  if (text.length > MAX_REASON)
    throw badInput(`The ${field} must have at most ${MAX_REASON} characters`, { field });
  return text;
}

export async function proposePromotion(
  { prisma, env }: Pick<Context, "prisma" | "env">,
  actor: AuthUser,
  input: { modelVersionId: string; reason: string; acceptRegression?: boolean | null },
): Promise<ModelPromotion> {
  const reason = requireReason(input.reason);
  if (!isUuid(input.modelVersionId)) throw notFound("Model version");
  const minTestCells = env.minTestCells;
  // Outside the transaction (a scan of the training snapshots): what the admin is told about
  // figures on test patients either model learned from.
  const evidence = await comparisonEvidence(prisma, input.modelVersionId, minTestCells);
  return prisma.$transaction(async (tx) => {
    const version = await tx.modelVersion.findUnique({ where: { id: input.modelVersionId } });
    if (!version) throw notFound("Model version");
    if (version.status === "CHAMPION")
      throw conflict(`${version.name} ${version.version} is already the champion`);
    if (version.status !== "CANDIDATE") {
      throw conflict(
        `${version.name} ${version.version} is ${version.status}; an earlier champion comes back by proposeRollback`,
      );
    }
    // The admin deciding weighs the two on the same test cells: no such figures, no proposal.
    // With no champion yet, the candidate's own figures on a TEST part: no figures, no first champion.
    const champion = await tx.modelVersion.findFirst({ where: { status: "CHAMPION" } });
    if (champion && sharedSnapshots(version, champion).length === 0) {
      throw conflict(
        `${version.name} ${version.version} has no test-set evaluation on the same snapshot as the champion ${champion.name} ${champion.version}: compare the two on a snapshot first, then propose`,
      );
    }
    if (!champion && testedSnapshots(version).length === 0) {
      throw conflict(
        `${version.name} ${version.version} has no test-set evaluation (on a TEST part with cells), and with no champion yet it is weighed on its own figures: evaluate it on a snapshot's locked TEST part first (compareModels with it alone, B left out, or a training run, which evaluates the model it trains), then propose`,
      );
    }
    // The evidence was gathered before this transaction: against the champion of now, or not at all.
    if (evidence && evidence.championId !== (champion?.id ?? null)) throw conflict("The champion changed while this was proposed: propose again");
    // An evaluation stored between that read and this transaction: without the figures it gives, no
    // regression or relabelling check could be made, so none is skipped.
    if (!evidence) throw conflict(`The ${champion ? "comparison with the champion" : "evaluation"} was stored while this was proposed: propose again`);
    const snapshot = `snapshot ${evidence.snapshotName ?? evidence.comparedOnSnapshotId}`;
    // Too few TEST cells to choose by: 18 of 20 right is anything from 70% to 97%. A first
    // promotion and a replacement alike; a rollback (proposeRollback.ts) restores a model that served.
    const testCells = evidence.testCells ?? null;
    if (testCells === null || testCells < minTestCells) {
      const where = champion
        ? `where ${version.name} ${version.version} and the champion ${champion.name} ${champion.version} were compared`
        : `where ${version.name} ${version.version} was evaluated`;
      const count =
        testCells === null
          ? `The evaluation on ${snapshot}, ${where}, does not record how many TEST cells it was scored on`
          : `The TEST part of ${snapshot}, ${where}, has ${testCells} cell${testCells === 1 ? "" : "s"}`;
      // The snapshot was chosen among those with enough cells where any had: none has.
      throw conflict(
        `${count}: a promotion rests on at least ${minTestCells} (RCMNET_MIN_TEST_CELLS), and no other snapshot ${champion ? "both were" : "it was"} evaluated on has as many. Take a larger snapshot (more signed-out cases), ${champion ? "compare the two" : "evaluate it"} on its TEST part, then propose`,
        { testCells, minTestCells, snapshotId: evidence.comparedOnSnapshotId },
      );
    }
    // Scored against labels the platform has since withdrawn (staleItems.ts): not evidence.
    if (evidence.relabelledTestCells > 0) {
      const n = evidence.relabelledTestCells;
      throw conflict(
        champion
          ? `${n} TEST cell${n === 1 ? "" : "s"} of ${snapshot}, where the two were compared, ${noLongerHeld(n)}: both models were scored against labels since withdrawn. Take a new snapshot, compare the two models on it, then propose`
          : `${n} TEST cell${n === 1 ? "" : "s"} of ${snapshot}, where ${version.name} ${version.version} was evaluated, ${noLongerHeld(n)}: it was scored against labels since withdrawn. Take a new snapshot, evaluate it on it, then propose`,
        { relabelledTestCells: n, snapshotId: evidence.comparedOnSnapshotId },
      );
    }
    if (!champion) {
      const { relabelledTestCells: _none, regressions: _first, championId: _noChampion, ...recorded } = evidence;
      return fileProposal(tx, actor, version, "PROMOTE", reason, { ...recorded, regressions: [], acceptedRegression: false });
    }
    // A model below the champion (by point estimate, not a test: a drop of one cell counts) is
    // promoted only knowingly: the proposer says so, and the admin sees it with the paired counts.
    if (evidence.regressions.length > 0 && !input.acceptRegression) {
      throw conflict(
        `${version.name} ${version.version} is below the champion ${champion.name} ${champion.version} (point estimates) on the TEST part of ${snapshot} (${evidence.testCells ?? "?"} cells): ${evidence.regressions.map(describeRegression).join("; ")}. Propose again acknowledging the regression (acceptRegression), saying why in the reason`,
        { regressions: evidence.regressions },
      );
    }
    const { relabelledTestCells: _none, regressions, ...recorded } = evidence;
    return fileProposal(tx, actor, version, "PROMOTE", reason, {
      ...recorded,
      championId: champion.id,
      regressions: toJson(regressions),
      acceptedRegression: regressions.length > 0,
    });
  });
}

/**
 * What the proposal rests on, frozen with it: of the snapshots on whose TEST part both the
 * candidate and the champion were evaluated (no champion yet: the candidate, on a TEST part with
 * cells), those with at least `minTestCells` TEST cells where there are any (an evaluation on a
 * few cells, say a quick look, must not hide a larger one from the proposal), of those the ones
 * where they learned from the fewest TEST patients, and of those the newest (the
 * most recent labels; which one must not depend on how snapshot ids sort). Models trained before the split by patient (or fine-tuned from one) may
 * have learned from some: their figures there are optimistic. One registered from a directory (or
 * fine-tuned from one) learned from data this database does not know, so whether it did cannot be
 * checked (trainingDataKnown false). Recorded with the proposal, not a refusal: such a lineage
 * stays in every later snapshot (parts are sticky), and the admin decides knowing it. With it: the
 * TEST cell count and the minimum it was held to, both models' recall per class with its interval, the
 * accuracy difference with its interval, compared cell by cell where both evaluations kept each
 * cell's call (pairing: PAIRED, with b, c, McNemar's mid-p and the paired interval; otherwise why
 * not: INCONSISTENT where a per-cell record contradicts its evaluation), the classes untested
 * there, where the candidate is below the champion (each class's with its paired counts), and how
 * many of the TEST labels are bulk confirmations of AI calls (where the snapshot records it).
 */
async function comparisonEvidence(prisma: PrismaClient, candidateId: string, minTestCells: number) {
  const [version, champion] = await Promise.all([
    prisma.modelVersion.findUnique({ where: { id: candidateId } }),
    prisma.modelVersion.findFirst({ where: { status: "CHAMPION" } }),
  ]);
  if (!version) return null;
  const shared = champion ? sharedSnapshots(version, champion) : testedSnapshots(version);
  const [rows, snapshots] = await Promise.all([
    Promise.all(
      shared.map(async (snapshotId) => ({
        snapshotId,
        candidate: await testLeakage(prisma, version.id, snapshotId),
        champion: champion ? await testLeakage(prisma, champion.id, snapshotId) : null,
        testCells: cachedEvaluation(version, snapshotId)?.count ?? (champion ? cachedEvaluation(champion, snapshotId)?.count : undefined) ?? null,
      })),
    ),
    prisma.datasetSnapshot.findMany({ where: { id: { in: shared.filter(isUuid) } }, select: { id: true, name: true, createdAt: true } }),
  ]);
  if (!rows.length) return null;
  const large = rows.filter((r) => r.testCells !== null && r.testCells >= minTestCells);
  const eligible = large.length ? large : rows;
  const leaked = (r: (typeof rows)[number]) => r.candidate.patients + (r.champion?.patients ?? 0);
  const least = Math.min(...eligible.map(leaked));
  // A snapshot this database does not hold (an id from elsewhere) counts as the oldest.
  const takenAt = (id: string) => snapshots.find((s) => s.id === id)?.createdAt.getTime() ?? Number.NEGATIVE_INFINITY;
  const best = eligible
    .filter((r) => leaked(r) === least)
    .sort((a, b) => takenAt(b.snapshotId) - takenAt(a.snapshotId) || a.snapshotId.localeCompare(b.snapshotId))[0]!;
  // The figures as the proposer saw them, frozen with the proposal: the versions' stored
  // evaluations are a cache a later evaluation may overwrite.
  const candidateEval = cachedEvaluation(version, best.snapshotId);
  const snapshotName = snapshots.find((s) => s.id === best.snapshotId)?.name ?? null;
  const relabelled = isUuid(best.snapshotId) ? await relabelledTestCells(prisma, best.snapshotId) : 0;
  // How many of those TEST labels are bulk confirmations of AI calls: weaker evidence, favouring the
  // model that made the calls. Not recorded (a snapshot taken before it was): left out, served null.
  const bulk = isUuid(best.snapshotId) ? await bulkConfirmedTestCells(prisma, best.snapshotId) : null;
  // How many models were scored on this TEST part: the best of several is optimistic (winner's curse).
  const scored = isUuid(best.snapshotId) ? await candidatesScoredOnTest(prisma, best.snapshotId, { candidateId: version.id, championId: champion?.id ?? null }) : null;
  if (!champion) {
    // A first champion: its own figures (accuracy, macro-F1, cells right and abstained, each
    // class's recall with its interval), nothing to pair or to fall below.
    const testCells = candidateEval?.count ?? null;
    return {
      championId: null,
      comparedOnSnapshotId: best.snapshotId,
      ...(snapshotName ? { snapshotName } : {}),
      ...(testCells !== null ? { testCells } : {}),
      ...(bulk !== null ? { bulkConfirmedTestCells: bulk } : {}),
      ...(scored !== null ? { candidatesScoredOnTest: scored } : {}),
      minTestCells,
      testLeakage: { candidate: { ...best.candidate } },
      figures: toJson({ candidate: figuresOf(candidateEval) }),
      pairing: { status: "NO_CHAMPION", note: FIRST_CHAMPION },
      untestedLabels: untestedLabelsOf(candidateEval),
      regressions: [],
      relabelledTestCells: relabelled,
    };
  }
  const championEval = cachedEvaluation(champion, best.snapshotId);
  const figures = { candidate: figuresOf(candidateEval), champion: figuresOf(championEval) };
  const testCells = candidateEval?.count ?? championEval?.count ?? null;
  const difference = accuracyDifference95(figures.candidate, figures.champion, testCells);
  const pairing = pairEvaluations(candidateEval, championEval);
  return {
    championId: champion.id,
    comparedOnSnapshotId: best.snapshotId,
    ...(snapshotName ? { snapshotName } : {}),
    ...(testCells !== null ? { testCells } : {}),
    ...(bulk !== null ? { bulkConfirmedTestCells: bulk } : {}),
    ...(scored !== null ? { candidatesScoredOnTest: scored } : {}),
    minTestCells,
    testLeakage: { candidate: { ...best.candidate }, champion: { ...best.champion! } },
    figures: toJson(figures),
    ...(difference ? { accuracyDifference: difference } : {}),
    pairing: pairing.status === "PAIRED" ? { status: pairing.status } : { status: pairing.status, note: pairing.note },
    ...(pairing.status === "PAIRED" ? { paired: toJson(pairing.paired) } : {}),
    untestedLabels: untestedLabelsOf(candidateEval, championEval),
    regressions: regressionsOf(figures.candidate, figures.champion, pairing.status === "PAIRED" ? pairing.byClass : undefined),
    relabelledTestCells: relabelled,
  };
}

/**
 * Model versions that hold an evaluation on the snapshot's TEST part (metrics.evaluations[snapshotId]:
 * every training run on it stores one, compareModels stores one per model it scores, whenever the
 * model was registered: three models registered from directories, then compared on a snapshot
 * taken after them, were all scored there), the proposed one always included. The champion at
 * proposal time is not counted unless it is the candidate: it is the baseline every comparison
 * scores, not one of the contenders. Several seeds, recipes or outside models scored there and the
 * best one proposed: its TEST figures are the maximum of several noisy estimates, optimistic by
 * more the more there were, and no longer an unbiased estimate of how it does on new patients.
 * Null where this database does not hold the snapshot.
 */
export async function candidatesScoredOnTest(
  prisma: Pick<PrismaClient, "$queryRaw">,
  snapshotId: string,
  { candidateId, championId }: { candidateId: string; championId: string | null },
): Promise<number | null> {
  const [row] = await prisma.$queryRaw<{ n: bigint | null }[]>`
    SELECT (SELECT count(*) FROM "model_version" m
            WHERE m."id" = ${candidateId}::uuid
               OR (m."metrics"->'evaluations'->${snapshotId} IS NOT NULL
                   AND m."id" IS DISTINCT FROM ${championId}::uuid)) AS n
    FROM "dataset_snapshot" d WHERE d."id" = ${snapshotId}::uuid`;
  return row?.n == null ? null : Number(row.n);
}

/** Why a first promotion's evidence has no comparison (PromotionEvidence.pairingNote). */
const FIRST_CHAMPION = "No champion to compare with: the first champion is weighed on its own figures on this TEST part";

/** Plain JSON for the audit event (Prisma's JSON input type has no optional fields). */
function toJson<T>(value: T): Prisma.InputJsonValue {
  return JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;
}

/** Snapshots on whose locked TEST part the model was evaluated (metrics.evaluations). */
function evaluatedSnapshots(m: ModelVersion): string[] {
  return Object.keys((m.metrics as { evaluations?: Record<string, unknown> } | null)?.evaluations ?? {});
}

/** Snapshots on whose locked TEST part both models were evaluated. */
function sharedSnapshots(a: ModelVersion, b: ModelVersion): string[] {
  const ofB = new Set(evaluatedSnapshots(b));
  return evaluatedSnapshots(a).filter((id) => ofB.has(id));
}

/**
 * Snapshots whose TEST part the model was evaluated on and had cells (an evaluation that does not
 * say how many counts): what a first promotion rests on, with no champion to compare with.
 */
function testedSnapshots(m: ModelVersion): string[] {
  return evaluatedSnapshots(m).filter((id) => cachedEvaluation(m, id)?.count !== 0);
}
