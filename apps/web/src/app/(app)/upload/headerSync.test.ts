import { describe, expect, it } from "vitest";
import { headerBehind } from "./headerSync";

const slide = (id: string, voidedAt: string | null = null, analysisStatus = "DONE") => ({ id, voidedAt, analysisStatus });
const polled = (slideId: string, status = "DONE") => ({ slideId, status });

describe("headerBehind", () => {
  it("is behind once the poll shows the analysis moved the case on", () => {
    // Loaded right after the upload (ANALYZING); the worker has since finished it.
    expect(headerBehind({ status: "ANALYZING", slides: [slide("a")] }, { caseStatus: "IN_REVIEW", slides: [polled("a")] })).toBe(true);
    expect(headerBehind({ status: "RECEIVED", slides: [slide("a")] }, { caseStatus: "ANALYZING", slides: [polled("a")] })).toBe(true);
  });

  it("is up to date while status and images agree, whatever each image's progress", () => {
    expect(headerBehind({ status: "ANALYZING", slides: [slide("a"), slide("b")] }, { caseStatus: "ANALYZING", slides: [polled("b"), polled("a")] })).toBe(false);
    expect(headerBehind({ status: "RECEIVED", slides: [] }, { caseStatus: "RECEIVED", slides: [] })).toBe(false);
    // A voided image is listed by the header (as voided) and left out of the analysis.
    expect(headerBehind({ status: "IN_REVIEW", slides: [slide("a"), slide("b", "2026-11-20T10:00:00.000Z")] }, { caseStatus: "IN_REVIEW", slides: [polled("a")] })).toBe(false);
  });

  it("is behind when the images differ: one uploaded elsewhere, or one voided since", () => {
    expect(headerBehind({ status: "ANALYZING", slides: [slide("a")] }, { caseStatus: "ANALYZING", slides: [polled("a"), polled("b")] })).toBe(true);
    expect(headerBehind({ status: "IN_REVIEW", slides: [slide("a"), slide("b")] }, { caseStatus: "IN_REVIEW", slides: [polled("a")] })).toBe(true);
  });

  it("is behind once an image's analysis has finished, or started again, since the header loaded: a void sends the image's updatedAt", () => {
    // Loaded while b was analysed; b has finished (its updatedAt moved): the Images panel would say
    // "being analysed" and a void of b be refused as over an analysis not seen.
    expect(headerBehind({ status: "ANALYZING", slides: [slide("a"), slide("b", null, "RUNNING")] }, { caseStatus: "ANALYZING", slides: [polled("a"), polled("b", "DONE")] })).toBe(true);
    expect(headerBehind({ status: "ANALYZING", slides: [slide("a"), slide("b", null, "RUNNING")] }, { caseStatus: "ANALYZING", slides: [polled("a"), polled("b", "FAILED")] })).toBe(true);
    // A failed image uploaded again: analysed anew.
    expect(headerBehind({ status: "ANALYZING", slides: [slide("a", null, "FAILED")] }, { caseStatus: "ANALYZING", slides: [polled("a", "PENDING")] })).toBe(true);
  });

  it("is not loaded again for each step of an analysis under way (the poll derives them from the job as well)", () => {
    expect(headerBehind({ status: "ANALYZING", slides: [slide("a", null, "PENDING")] }, { caseStatus: "ANALYZING", slides: [polled("a", "RUNNING")] })).toBe(false);
    expect(headerBehind({ status: "ANALYZING", slides: [slide("a", null, "RUNNING")] }, { caseStatus: "ANALYZING", slides: [polled("a", "PENDING")] })).toBe(false);
  });
});
