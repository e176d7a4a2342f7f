// slideAnalysis / caseAnalysisProgress through the GraphQL API: what the upload page polls.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { ALL_ROLES } from "../../auth/roles.ts";
import { enqueueSlideAnalysis } from "../../jobs/analysisJobs.ts";
import { claimJob, heartbeat } from "../../jobs/queue.ts";
import { reconcileFailedAnalyses } from "../../jobs/reconcileAnalyses.ts";
import { failSlide } from "../../jobs/handlers/analyzeSlide.ts";

let api: TestApi;
let token: string;

beforeAll(async () => {
  api = await createTestApi();
  token = await api.loginAs("TECHNICIAN");
});
afterAll(async () => {
  await api?.close();
});

const PROGRESS = `query($id: ID!) {
  caseAnalysisProgress(caseId: $id) {
    caseId caseStatus slideCount doneCount failedCount progress
    slides { slideId status error progress cellCount predictedCellCount job { status progress step attempts maxAttempts error } }
  }
}`;
const SLIDE = `query($id: ID!) { slideAnalysis(slideId: $id) { slideId status progress job { step } } }`;

describe("analysis progress", () => {
  it("reports each slide's job progress and the case's overall progress", async () => {
    const tech = await api.createUser("TECHNICIAN");
    const kase = await api.prisma.case.create({
      data: { accession: "P-1", status: "ANALYZING", createdById: tech.user.id },
    });
    const slide = (n: number) =>
      api.prisma.slide.create({
        data: {
          caseId: kase.id,
          imageSha256: String(n).repeat(64),
          mimeType: "image/png",
          byteSize: 1,
          width: 1,
          height: 1,
          uploadedById: tech.user.id,
        },
      });
    const running = await slide(1);
    const failed = await slide(2);
    const done = await slide(3);
    await enqueueSlideAnalysis(api.prisma, running.id);
    const job = await claimJob(api.prisma, { workerId: "w", types: ["analyzeSlide"], leaseMs: 60_000 });
    expect(job?.payload).toEqual({ slideId: running.id });
    await heartbeat(api.prisma, job!.id, "w", { progress: 0.4, step: "classifying cells" });
    // A job that ran out of attempts when its worker died: the slide row still says RUNNING.
    await api.prisma.slide.update({ where: { id: failed.id }, data: { analysisStatus: "RUNNING" } });
    await api.prisma.job.create({
      data: {
        type: "analyzeSlide",
        payload: { slideId: failed.id },
        dedupeKey: `analyzeSlide:${failed.id}`,
        status: "FAILED",
        attempts: 3,
        error: "worker w stopped renewing its lease (attempt 3 of 3)",
      },
    });
    await api.prisma.slide.update({ where: { id: done.id }, data: { analysisStatus: "DONE" } });

    const p = (await api.gqlOk(token, PROGRESS, { id: kase.id })).caseAnalysisProgress;
    expect(p).toMatchObject({
      caseId: kase.id,
      caseStatus: "ANALYZING",
      slideCount: 3,
      doneCount: 1,
      failedCount: 1,
    });
    const byId = Object.fromEntries(p.slides.map((s: { slideId: string }) => [s.slideId, s]));
    expect(byId[running.id]).toMatchObject({
      status: "RUNNING",
      progress: 0.4,
      job: { status: "RUNNING", step: "classifying cells", attempts: 1 },
    });
    expect(byId[failed.id]).toMatchObject({
      status: "FAILED",
      // Where to look, not the worker's own text (its host and process).
      error: expect.stringMatching(/^analysis failed: its worker stopped before finishing \(the worker log has the details under job /),
    });
    expect(JSON.stringify(p)).not.toMatch(/stopped renewing/);
    expect(byId[done.id]).toMatchObject({ status: "DONE", progress: 1, job: null });
    // The failed slide is finished: it counts in full, so the bar does not stall below its end.
    expect(byId[failed.id].progress).toBe(1);
    expect(p.progress).toBeCloseTo((0.4 + 1 + 1) / 3);

    // A worker's idle housekeeping brings the stuck slide to FAILED, once, with an audit event.
    expect(await reconcileFailedAnalyses(api.prisma)).toBe(1);
    expect(await reconcileFailedAnalyses(api.prisma)).toBe(0);
    expect(await api.prisma.slide.findUniqueOrThrow({ where: { id: failed.id } })).toMatchObject({
      analysisStatus: "FAILED",
      // In words, without the worker's host and process (which the job's own error names).
      analysisError: expect.stringMatching(/^analysis failed: its worker stopped before finishing \(the worker log has the details under job [0-9a-f-]{36}\)$/),
    });
    expect(
      await api.prisma.auditEvent.count({ where: { action: "slide.analysisFailed", entityId: failed.id } }),
    ).toBe(1);
    expect((await api.prisma.slide.findUniqueOrThrow({ where: { id: running.id } })).analysisStatus).toBe(
      "PENDING",
    );

    const s = (await api.gqlOk(token, SLIDE, { id: running.id })).slideAnalysis;
    expect(s).toMatchObject({ slideId: running.id, status: "RUNNING", job: { step: "classifying cells" } });

    // Its attempt fails and the job waits for a retry: the slide shows PENDING at 0, not a RUNNING
    // slide frozen at 40%.
    await api.prisma.slide.update({ where: { id: running.id }, data: { analysisStatus: "RUNNING" } });
    await api.prisma.job.update({ where: { id: job!.id }, data: { status: "QUEUED", lockedBy: null } });
    expect((await api.gqlOk(token, SLIDE, { id: running.id })).slideAnalysis).toMatchObject({ status: "PENDING", progress: 0 });
  });

  it("does not fail a slide whose job was given a new life after the reconciler read it (uploaded again, analysing now)", async () => {
    const tech = await api.createUser("TECHNICIAN");
    const kase = await api.prisma.case.create({ data: { accession: "P-REVIVED", status: "ANALYZING", createdById: tech.user.id } });
    const slide = await api.prisma.slide.create({
      data: { caseId: kase.id, imageSha256: "9".repeat(64), mimeType: "image/png", byteSize: 1, width: 1, height: 1, uploadedById: tech.user.id, analysisStatus: "RUNNING" },
    });
    const job = await api.prisma.job.create({
      data: { type: "analyzeSlide", payload: { slideId: slide.id }, dedupeKey: `analyzeSlide:${slide.id}`, status: "FAILED", attempts: 3, error: "worker died" },
    });
    // The reconciler read (slide RUNNING, job FAILED); then the image is uploaded again, and a
    // worker claims the requeued job before the reconciler's update takes the case lock.
    await api.prisma.job.update({ where: { id: job.id }, data: { status: "RUNNING", attempts: 1 } });
    const failed = await api.prisma.$transaction((tx) => failSlide(tx, slide.id, "stale", ["PENDING", "RUNNING"], job.id));
    expect(failed).toBe(false);
    expect(await api.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } })).toMatchObject({ analysisStatus: "RUNNING", analysisError: null });
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).status).toBe("ANALYZING");
    // Still failed under the lock: failed as before.
    await api.prisma.job.update({ where: { id: job.id }, data: { status: "FAILED" } });
    expect(await api.prisma.$transaction((tx) => failSlide(tx, slide.id, "worker died", ["PENDING", "RUNNING"], job.id))).toBe(true);
  });

  it("answers unknown ids with NOT_FOUND and refuses anonymous callers", async () => {
    for (const id of ["nope", "00000000-0000-4000-8000-000000000000"]) {
      expect((await api.gql(token, PROGRESS, { id })).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      expect((await api.gql(token, SLIDE, { id })).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    }
    expect((await api.gql(null, SLIDE, { id: "x" })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    // Every role that reads cases may watch their analysis.
    const kase = await api.prisma.case.findFirstOrThrow();
    for (const role of ALL_ROLES) {
      const r = await api.gql(await api.loginAs(role), PROGRESS, { id: kase.id });
      expect(r.errors, role).toBeUndefined();
    }
  });
});
