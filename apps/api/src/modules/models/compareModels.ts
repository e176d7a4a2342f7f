// Two model versions on the same snapshot's locked TEST part, measured the same way.
import type { ModelVersion } from "@rcmnet/db";
import type { AuthUser, Context } from "../../context.ts";
import { badInput, notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { sharedRunner } from "../../lib/sharedRunner.ts";
import { cachedEvaluation, evaluateOnSnapshot } from "../../jobs/model/evaluateOnSnapshot.ts";
import { sharedClassifierCache } from "../../jobs/model/modelRuntime.ts";
import { untestedLabelsOf } from "./promotionFigures.ts";
import { relabelledTestCells } from "./relabelledTest.ts";

/** Above this the comparison belongs in a job, not in a request. */
const MAX_TEST_CELLS = 5_000;

// An uncached comparison runs two models over the TEST part inside the API process: one at a
// time, and the same comparison asked for again meanwhile waits for that run (its answer is
// then cached) instead of starting another.
const sharedRun = sharedRunner(1, 120_000, "Another model comparison is running; try again in a moment");

export async function compareModels(
  ctx: Pick<Context, "prisma" | "blobs" | "env">,
  _actor: AuthUser,
  args: { a: string; b: string; snapshotId: string },
) {
  if (!isUuid(args.a) || !isUuid(args.b)) throw notFound("Model version");
  if (!isUuid(args.snapshotId)) throw notFound("Dataset snapshot");
  if (args.a === args.b) throw badInput("Pick two different model versions");
  const [a, b, snapshot] = await Promise.all([
    ctx.prisma.modelVersion.findUnique({ where: { id: args.a } }),
    ctx.prisma.modelVersion.findUnique({ where: { id: args.b } }),
    ctx.prisma.datasetSnapshot.findUnique({ where: { id: args.snapshotId } }),
  ]);
  if (!a || !b) throw notFound("Model version");
  if (!snapshot) throw notFound("Dataset snapshot");
  const testCount = await ctx.prisma.datasetItem.count({ where: { snapshotId: snapshot.id, split: "TEST" } });
  if (testCount === 0) throw badInput("The snapshot has no TEST cells");
  if (testCount > MAX_TEST_CELLS)
    throw badInput(`The TEST part has ${testCount} cells; compare at most ${MAX_TEST_CELLS} here`);
  const deps = {
    prisma: ctx.prisma,
    blobs: ctx.blobs,
    classifiers: await sharedClassifierCache(ctx.env.dataDir),
  };
  const evaluateBoth = async (x: ModelVersion, y: ModelVersion) => [await evaluateOnSnapshot(deps, x, snapshot.id), await evaluateOnSnapshot(deps, y, snapshot.id)] as const;
  // Both stored already (a snapshot never changes, nor do weights): no need to wait for a slot.
  const cached = cachedEvaluation(a, snapshot.id) && cachedEvaluation(b, snapshot.id);
  const [evalA, evalB] = cached
    ? await evaluateBoth(a, b)
    : await sharedRun(`${a.id}/${b.id}/${snapshot.id}`, async () => {
        // Read again once the slot is ours: a comparison run meanwhile may have stored either result.
        const [freshA, freshB] = await Promise.all([
          ctx.prisma.modelVersion.findUniqueOrThrow({ where: { id: a.id } }),
          ctx.prisma.modelVersion.findUniqueOrThrow({ where: { id: b.id } }),
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
  });
  return {
    snapshot,
    testCount,
    // Counted now, not cached: an amendment may relabel a TEST cell after the evaluations were stored.
    relabelledTestCells: await relabelledTestCells(ctx.prisma, snapshot.id),
    untestedLabels: untestedLabelsOf(evalA, evalB),
    a: view(a, evalA),
    b: view(b, evalB),
  };
}
