// A worker that dies on a job's last attempt never runs the handler's failure path: the reaper
// marks the job FAILED, but the slide would stay RUNNING and block its case's sign-off forever.
// Workers run this when idle to bring such slides to FAILED, with the reason and an audit event,
// and their case to review once no other slide is still being analysed.
import type { PrismaClient } from "@rcmnet/db";
import { ANALYZE_SLIDE } from "./analysisJobs.ts";
import { systemAudit } from "./systemAudit.ts";
import { advanceCaseIfAnalysed } from "./handlers/analyzeSlide.ts";

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
    await prisma.$transaction(async (tx) => {
      const row = await tx.slide.findUnique({ where: { id: slide.id }, select: { caseId: true } });
      if (!row) return;
      await tx.$queryRaw`SELECT 1 FROM "case" WHERE "id" = ${row.caseId}::uuid FOR UPDATE`;
      const changed = await tx.slide.updateMany({
        where: { id: slide.id, analysisStatus: { in: ["PENDING", "RUNNING"] } },
        data: { analysisStatus: "FAILED", analysisError: message },
      });
      if (changed.count === 1) {
        fixed++;
        await systemAudit(tx, {
          action: "slide.analysisFailed",
          entityType: "Slide",
          entityId: slide.id,
          after: { error: message },
        });
        await advanceCaseIfAnalysed(tx, row.caseId);
      }
    });
  }
  return fixed;
}
