// Whether a model version is withdrawn: an approved rollback took it out of service. The rollback's
// re-prediction (repredictOpenCases) replaces its calls on undecided cells of open cases; until it
// has, and on cells a human decided on its call, the review page flags them and confirmCells
// refuses to confirm them in bulk. One
// SQL rule for both (Prediction.modelVersion's loader and confirmCells), so they cannot disagree.
import { Prisma } from "@rcmnet/db";

/**
 * SQL over the model_version row aliased `mv`: not the champion now, and the last time it was
 * replaced as champion, a rollback replaced it (a version rolled back to, then succeeded by a
 * promotion, is not withdrawn: its calls were trusted when made).
 */
export function withdrawnSql(mv: string): Prisma.Sql {
  const v = Prisma.raw(mv);
  return Prisma.sql`(${v}."status"::text <> 'CHAMPION' AND COALESCE((
    SELECT mp."kind"::text = 'ROLLBACK' FROM "model_promotion" mp
    WHERE mp."state" = 'APPROVED' AND mp."replacesChampionId" = ${v}.id
    ORDER BY mp."decidedAt" DESC NULLS LAST, mp."id" DESC LIMIT 1), false))`;
}
