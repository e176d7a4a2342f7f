// A worker that dies on a job's last attempt never runs the handler's failure path: the reaper
// marks the job FAILED, but the slide would stay RUNNING and block its case's sign-off forever.
// Workers run this when idle to bring such slides to FAILED, with the reason and an audit event,
// and their case to review once no other slide is still being analysed.
import type { PrismaClient } from "@rcmnet/db";
import { ANALYZE_SLIDE } from "./analysisJobs.ts";
import { failSlide } from "./handlers/analyzeSlide.ts";
import { jobErrorForReaders } from "./failureReason.ts";

export async function reconcileFailedAnalyses(prisma: PrismaClient): Promise<number> {
  const stuck = await prisma.$queryRaw<{ id: string; jobId: string }[]>`
    SELECT s."id", j."id" AS "jobId"
    FROM "slide" s
    JOIN "job" j ON j."dedupeKey" = ${`${ANALYZE_SLIDE}:`} || s."id"::text
    -- A voided slide stays as it was voided (failSlide leaves it): not picked again every round.
    WHERE s."analysisStatus" IN ('PENDING', 'RUNNING') AND j."status" = 'FAILED' AND s."voidedAt" IS NULL
    LIMIT 100`;
  let fixed = 0;
  for (const slide of stuck) {
    // The job's own error is the worker's (host, process, driver text): for its log, not for the
    // case's readers, who see why in words and where the details are.
    const message = jobErrorForReaders(slide.jobId, true);
    if (await prisma.$transaction((tx) => failSlide(tx, slide.id, message, ["PENDING", "RUNNING"], slide.jobId))) fixed++;
  }
  return fixed;
}
