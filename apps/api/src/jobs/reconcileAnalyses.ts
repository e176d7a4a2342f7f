// A worker that dies on a job's last attempt never runs the handler's failure path: the reaper
// marks the job FAILED, but the slide would stay RUNNING and block its case's sign-off forever.
// Workers run this when idle to bring such slides to FAILED, with the reason and an audit event,
// and their case to review once no other slide is still being analysed.
import type { PrismaClient } from "@rcmnet/db";
import { ANALYZE_SLIDE } from "./analysisJobs.ts";
import { failSlide } from "./handlers/analyzeSlide.ts";

export async function reconcileFailedAnalyses(prisma: PrismaClient): Promise<number> {
  const stuck = await prisma.$queryRaw<{ id: string; error: string | null }[]>`
    SELECT s."id", j."error"
    FROM "slide" s
    JOIN "job" j ON j."dedupeKey" = ${`${ANALYZE_SLIDE}:`} || s."id"::text
    WHERE s."analysisStatus" IN ('PENDING', 'RUNNING') AND j."status" = 'FAILED'
    LIMIT 100`;
  let fixed = 0;
  for (const slide of stuck) {
    const message = (slide.error ?? "analysis failed").slice(0, 500);
    if (await prisma.$transaction((tx) => failSlide(tx, slide.id, message, ["PENDING", "RUNNING"]))) fixed++;
  }
  return fixed;
}
