// Two model versions on the same snapshot's locked TEST part, measured the same way; or one alone
// (b omitted): a candidate's own figures, what a first promotion, with no champion to compare
// with, rests on.
import type { ModelVersion } from "@rcmnet/db";
import type { AuthUser, Context } from "../../context.ts";
import { badInput, notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { sharedRunner } from "../../lib/sharedRunner.ts";
import { cachedEvaluation, evaluateOnSnapshot } from "../../jobs/model/evaluateOnSnapshot.ts";
import { sharedClassifierCache } from "../../jobs/model/modelRuntime.ts";
import { untestedLabelsOf } from "./promotionFigures.ts";
import { relabelledTestCells } from "./relabelledTest.ts";
import { bulkConfirmedTestCells } from "../training/bulkConfirmed.ts";

/** Above this the comparison belongs in a job, not in a request. */
const MAX_TEST_CELLS = 5_000;

// An uncached comparison runs two models over the TEST part inside the API process: one at a
// time, and the same comparison asked for again meanwhile waits for that run (its answer is
// then cached) instead of starting another.
const sharedRun = sharedRunner(1, 120_000, "Another model comparison is running; try again in a moment");

export async function compareModels(
  ctx: Pick<Context, "prisma" | "blobs" | "env">,
  actor: AuthUser,
  args: { a: string; b?: string | null; snapshotId: string },
) {
  const bId = args.b ?? null;
  if (!isUuid(args.a) || (bId !== null && !isUuid(bId))) throw notFound("Model version");
  if (!isUuid(args.snapshotId)) throw notFound("Dataset snapshot");
  if (args.a === bId) throw badInput("Pick two different model versions, or leave B out to evaluate A alone");
  const [a, b, snapshot] = await Promise.all([
    ctx.prisma.modelVersion.findUnique({ where: { id: args.a } }),
    bId === null ? null : ctx.prisma.modelVersion.findUnique({ where: { id: bId } }),
    ctx.prisma.datasetSnapshot.findUnique({ where: { id: args.snapshotId } }),
  ]);
  if (!a || (bId !== null && !b)) throw notFound("Model version");
  if (!snapshot) throw notFound("Dataset snapshot");
  const testCount = await ctx.prisma.datasetItem.count({ where: { snapshotId: snapshot.id, split: "TEST" } });
  if (testCount === 0) throw badInput("The snapshot has no TEST cells");
  if (testCount > MAX_TEST_CELLS)
    throw badInput(`The TEST part has ${testCount} cells; compare at most ${MAX_TEST_CELLS} here`);
  const deps = {
    prisma: ctx.prisma,
    blobs: ctx.blobs,
    classifiers: await sharedClassifierCache(ctx.env.dataDir),
    // A query, but the figures it stores are what a promotion proposal later freezes: audited as the
    // asker's whose request computes them (others joining the same run read what it stored).
    actor,
  };
  const evaluateBoth = async (x: ModelVersion, y: ModelVersion | null) =>
    [await evaluateOnSnapshot(deps, x, snapshot.id), y ? await evaluateOnSnapshot(deps, y, snapshot.id) : null] as const;
  // All stored already (a snapshot never changes, nor do weights): no need to wait for a slot.
  const cached = cachedEvaluation(a, snapshot.id) && (!b || cachedEvaluation(b, snapshot.id));
  const [evalA, evalB] = cached
    ? await evaluateBoth(a, b)
    : await sharedRun(`${a.id}/${b?.id ?? "-"}/${snapshot.id}`, async () => {
        // Read again once the slot is ours: a comparison run meanwhile may have stored either result.
        const [freshA, freshB] = await Promise.all([
          ctx.prisma.modelVersion.findUniqueOrThrow({ where: { id: a.id } }),
          b ? ctx.prisma.modelVersion.findUniqueOrThrow({ where: { id: b.id } }) : null,
        ]);
        return evaluateBoth(freshA, freshB);
      });
  const view = (version: typeof a, m: typeof evalA) => ({
    modelVersion: version,
    accuracy: m.accuracy,
    macroF1: m.macroF1,
    perClass: m.perClass,
    confusion: m.confusion,
    abstained: m.abstained,
    leakedPatients: m.leakage?.patients ?? 0,
    leakedCells: m.leakage?.cells ?? 0,
    // evaluateOnSnapshot always measures it; were it missing, what the model learned from is not known.
    trainingDataKnown: m.leakage?.trainingDataKnown ?? false,
  });
  return {
    snapshot,
    testCount,
    // Counted now, not cached: an amendment may relabel a TEST cell after the evaluations were stored.
    relabelledTestCells: await relabelledTestCells(ctx.prisma, snapshot.id),
    // Frozen with the snapshot's items (null: taken before it was recorded).
    bulkConfirmedTestCells: await bulkConfirmedTestCells(ctx.prisma, snapshot.id),
    untestedLabels: untestedLabelsOf(evalA, evalB),
    a: view(a, evalA),
    b: b && evalB ? view(b, evalB) : null,
  };
}
