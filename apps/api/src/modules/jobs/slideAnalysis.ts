// Analysis progress of slides and cases, for the upload page's progress bars.
import type { Job, PrismaClient, Slide } from "@rcmnet/db";
import { notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { findSlideJob } from "../../jobs/analysisJobs.ts";
import { jobErrorForReaders } from "../../jobs/failureReason.ts";

export interface SlideAnalysisView {
  slideId: string;
  status: string;
  error: string | null;
  progress: number;
  cellCount: number;
  predictedCellCount: number;
  job: Job | null;
}

async function viewOf(prisma: PrismaClient, slide: Slide): Promise<SlideAnalysisView> {
  const [job, cellCount, predictedCellCount] = await Promise.all([
    findSlideJob(prisma, slide.id),
    prisma.cell.count({ where: { slideId: slide.id } }),
    prisma.cell.count({ where: { slideId: slide.id, predictions: { some: {} } } }),
  ]);
  // A job that ran out of attempts when its worker died never reached the handler's own
  // failure path: the job's status is the truth then.
  // Likewise a claimed job is RUNNING before its handler has marked the slide.
  // A job back in the queue after a failed attempt waits for its retry: PENDING, not a RUNNING
  // slide frozen at the progress its last attempt reached.
  const status =
    slide.analysisStatus !== "DONE" && job?.status === "FAILED"
      ? "FAILED"
      : slide.analysisStatus === "PENDING" && job?.status === "RUNNING"
        ? "RUNNING"
        : slide.analysisStatus === "RUNNING" && job?.status === "QUEUED"
          ? "PENDING"
          : slide.analysisStatus;
  return {
    slideId: slide.id,
    status,
    // A job's own error text is the worker's (its host, a driver message): readers get where to look.
    error: slide.analysisError ?? (status === "FAILED" && job ? jobErrorForReaders(job.id, true) : null),
    // A failed slide is finished too: the case's bar reaches its end rather than stalling below it.
    progress: status === "DONE" || status === "FAILED" ? 1 : status === "PENDING" ? 0 : (job?.progress ?? 0),
    // A failed image's cells are not part of the case (listCells), so none are reported.
    cellCount: status === "FAILED" ? 0 : cellCount,
    predictedCellCount: status === "FAILED" ? 0 : predictedCellCount,
    // Waiting for a retry: not the step and progress where the last attempt stopped.
    job: status === "PENDING" && job ? { ...job, step: null, progress: 0 } : job,
  };
}

export async function slideAnalysis(prisma: PrismaClient, slideId: string): Promise<SlideAnalysisView> {
  if (!isUuid(slideId)) throw notFound("Slide");
  const slide = await prisma.slide.findUnique({ where: { id: slideId } });
  if (!slide) throw notFound("Slide");
  return viewOf(prisma, slide);
}

export async function caseAnalysisProgress(prisma: PrismaClient, caseId: string) {
  if (!isUuid(caseId)) throw notFound("Case");
  const kase = await prisma.case.findUnique({ where: { id: caseId }, select: { id: true, status: true } });
  if (!kase) throw notFound("Case");
  // A voided image is out of the case and its analysis abandoned: left out, or a bar would wait
  // for it for ever.
  const slides = await prisma.slide.findMany({
    where: { caseId, voidedAt: null },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const views = [];
  for (const s of slides) views.push(await viewOf(prisma, s)); // a case has a handful of slides
  return {
    caseId: kase.id,
    caseStatus: kase.status,
    slideCount: views.length,
    doneCount: views.filter((v) => v.status === "DONE").length,
    failedCount: views.filter((v) => v.status === "FAILED").length,
    progress: views.length === 0 ? 0 : views.reduce((sum, v) => sum + v.progress, 0) / views.length,
    slides: views,
  };
}
