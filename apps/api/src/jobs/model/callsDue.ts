// Which cells a model is to call, one rule for the slide analysis and the re-prediction of open
// cases: those whose newest call is not already this model's. Not "those it never called": after
// a rollback (A, then B, then A again) a cell A called before B shows B's withdrawn call, and A
// calls it anew, as round 2 of its calls on that cell (Prediction.round), newest again.
import { Prisma } from "@rcmnet/db";

/** The newest prediction, in the loader's order (Cell.prediction): newest first, then by id. */
function newestCallModel(cell: string): Prisma.Sql {
  const c = Prisma.raw(cell);
  return Prisma.sql`(SELECT p."modelVersionId" FROM "prediction" p WHERE p."cellId" = ${c}.id
    ORDER BY p."createdAt" DESC, p.id DESC LIMIT 1)`;
}

/** SQL over the cell row aliased `cell`: its newest call is not `modelVersionId`'s (or it has none). */
export function callDueSql(cell: string, modelVersionId: string): Prisma.Sql {
  return Prisma.sql`${newestCallModel(cell)} IS DISTINCT FROM ${modelVersionId}::uuid`;
}

/** SQL over the cell row aliased `cell`: the round `modelVersionId`'s next call on it would be. */
export function nextRoundSql(cell: string, modelVersionId: string): Prisma.Sql {
  const c = Prisma.raw(cell);
  return Prisma.sql`(SELECT coalesce(max(p."round"), 0) + 1 FROM "prediction" p
    WHERE p."cellId" = ${c}.id AND p."modelVersionId" = ${modelVersionId}::uuid)::int`;
}
