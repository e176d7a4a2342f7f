import { describe, expect, it } from "vitest";
import type { CaseDetailsFields } from "./caseDetails";
import { changedFields, changedMeanwhileMessage, describeChange, fieldText, followLoaded } from "./caseDetailsEdit";

const loaded: CaseDetailsFields = {
  id: "c1",
  status: "ANALYZING",
  priority: "ROUTINE",
  product: "tisagenlecleucel",
  timepoint: "day +7",
  specimen: "peripheral blood",
  collectedAt: "2026-11-20T08:30:00.000Z",
  wbcCount: 4.2,
  updatedAt: "2026-11-20T09:00:00.000Z",
};
const later = (patch: Partial<CaseDetailsFields>): CaseDetailsFields => ({ ...loaded, updatedAt: "2026-11-20T09:05:00.000Z", ...patch });

describe("changedFields", () => {
  it("sees no change to the details when only the analysis moved the case on", () => {
    expect(changedFields(loaded, later({ status: "IN_REVIEW" }))).toEqual([]);
    // The same instant written another way is not a change.
    expect(changedFields(loaded, later({ collectedAt: "2026-11-20T08:30:00Z" }))).toEqual([]);
  });

  it("names each detail someone else changed", () => {
    expect(changedFields(loaded, later({ wbcCount: 5.1, priority: "STAT", collectedAt: null }))).toEqual(["collectedAt", "wbcCount", "priority"]);
  });
});

describe("describeChange / changedMeanwhileMessage", () => {
  it("says the analysis finished, in words, and that what was typed is kept", () => {
    expect(describeChange(loaded, later({ status: "IN_REVIEW" }))).toBe("analysis finished");
    expect(changedMeanwhileMessage(loaded, later({ status: "IN_REVIEW" }))).toBe(
      "The case changed meanwhile (analysis finished); your entries are kept — check them and save again.",
    );
  });

  it("says what someone else changed, from and to", () => {
    expect(describeChange(loaded, later({ timepoint: "day +8", wbcCount: null }))).toBe("timepoint: day +7 → day +8; WBC count: 4.2 ×10⁹/L → not recorded");
    expect(describeChange({ ...loaded, status: "RECEIVED" }, later({ status: "ANALYZING", product: null }))).toBe(
      "images were added and are being analysed; CAR-T product: tisagenlecleucel → —",
    );
    expect(describeChange(loaded, later({ collectedAt: "2026-11-20T07:30:00.000Z" }))).toBe("collected: 2026-11-20 08:30:00 UTC → 2026-11-20 07:30:00 UTC");
  });

  it("says so when nothing the editor shows changed (an image voided, say)", () => {
    expect(describeChange(loaded, later({}))).toBe("not in these details");
  });

  it("does not invite a save again once the case was signed", () => {
    expect(changedMeanwhileMessage({ ...loaded, status: "IN_REVIEW" }, later({ status: "SIGNED_OUT" }))).toBe(
      "The case changed meanwhile (it was signed out); nothing was saved: a signed case's details change only in an amendment.",
    );
    expect(describeChange({ ...loaded, status: "SIGNED_OUT" }, later({ status: "IN_REVIEW" }))).toBe("an amendment was started");
  });
});

describe("followLoaded", () => {
  const inForm = (v: CaseDetailsFields) => Object.fromEntries((["product", "timepoint", "specimen", "collectedAt", "wbcCount", "priority"] as const).map((f) => [f, fieldText(v, f)]));

  it("moves the fields left as loaded to the new values, and keeps what was typed", () => {
    const form = { ...inForm(loaded), wbcCount: "5.9", timepoint: "day +9" };
    const after = later({ status: "IN_REVIEW", timepoint: "day +8", priority: "STAT", wbcCount: 5.1 });
    expect(followLoaded(form, loaded, after)).toEqual({ priority: "STAT" });
  });

  it("sets nothing when the details did not change, or the form already shows the new value", () => {
    expect(followLoaded(inForm(loaded), loaded, later({ status: "IN_REVIEW" }))).toEqual({});
    // An input follows its defaultValue by itself when it was not typed into.
    expect(followLoaded({ ...inForm(loaded), product: "axicabtagene" }, loaded, later({ product: "axicabtagene" }))).toEqual({});
  });

  it("clears a field the other change cleared, and fills one it filled", () => {
    expect(followLoaded(inForm(loaded), loaded, later({ wbcCount: null, specimen: "bone marrow" }))).toEqual({ wbcCount: "", specimen: "bone marrow" });
  });
});
