import { describe, expect, it } from "vitest";
import { headerBehind } from "./headerSync";

const slide = (id: string, voidedAt: string | null = null) => ({ id, voidedAt });

describe("headerBehind", () => {
  it("is behind once the poll shows the analysis moved the case on", () => {
    // Loaded right after the upload (ANALYZING); the worker has since finished it.
    expect(headerBehind({ status: "ANALYZING", slides: [slide("a")] }, { caseStatus: "IN_REVIEW", slides: [{ slideId: "a" }] })).toBe(true);
    expect(headerBehind({ status: "RECEIVED", slides: [slide("a")] }, { caseStatus: "ANALYZING", slides: [{ slideId: "a" }] })).toBe(true);
  });

  it("is up to date while status and images agree, whatever each image's progress", () => {
    expect(headerBehind({ status: "ANALYZING", slides: [slide("a"), slide("b")] }, { caseStatus: "ANALYZING", slides: [{ slideId: "b" }, { slideId: "a" }] })).toBe(false);
    expect(headerBehind({ status: "RECEIVED", slides: [] }, { caseStatus: "RECEIVED", slides: [] })).toBe(false);
    // A voided image is listed by the header (as voided) and left out of the analysis.
    expect(headerBehind({ status: "IN_REVIEW", slides: [slide("a"), slide("b", "2026-11-20T10:00:00.000Z")] }, { caseStatus: "IN_REVIEW", slides: [{ slideId: "a" }] })).toBe(false);
  });

  it("is behind when the images differ: one uploaded elsewhere, or one voided since", () => {
    expect(headerBehind({ status: "ANALYZING", slides: [slide("a")] }, { caseStatus: "ANALYZING", slides: [{ slideId: "a" }, { slideId: "b" }] })).toBe(true);
    expect(headerBehind({ status: "IN_REVIEW", slides: [slide("a"), slide("b")] }, { caseStatus: "IN_REVIEW", slides: [{ slideId: "a" }] })).toBe(true);
  });
});
