import { describe, expect, it } from "vitest";
import { decisionInput, labelAsLoaded } from "./decisionInput";
import { reviewCell } from "./testing";

describe("one decision as the review page sends it", () => {
  it("reclassifies from the label the page showed, naming it (expectedLabel), with the reason", () => {
    const cell = reviewCell("c1", "lymphocyte", 0.9, { storedLabel: "lymphocyte", reviewCount: 0 });
    expect(decisionInput(cell, "neutrophil", "lobed nucleus")).toEqual({
      kind: "reclassify",
      input: { cellId: "c1", expectedReviewCount: 0, expectedLabel: "lymphocyte", label: "neutrophil", reason: "lobed nucleus" },
    });
  });

  it("names no label (null) for a cell the page showed as unidentified for want of any", () => {
    const cell = reviewCell("c2", "unidentified", 0, { ai: null, storedLabel: null });
    expect(labelAsLoaded(cell)).toBeNull();
    expect(decisionInput(cell, "unidentified", "no cell in the crop")).toMatchObject({ kind: "reclassify", input: { expectedLabel: null, label: "unidentified" } });
  });

  it("confirms the label the API holds, naming it, and sends a reason only where one was given", () => {
    const cell = reviewCell("c3", "car_t", 0.95, { storedLabel: "car_t", reviewCount: 1 });
    expect(decisionInput(cell, "car_t", null)).toEqual({ kind: "confirm", cells: [{ cellId: "c3", expectedReviewCount: 1, expectedLabel: "car_t" }] });
    // Without the API's label on the page (storedLabel absent), the label shown is the one named.
    expect(decisionInput(reviewCell("c4", "monocyte", 0.9), "monocyte", "seen")).toEqual({
      kind: "confirm",
      cells: [{ cellId: "c4", expectedReviewCount: 0, expectedLabel: "monocyte", reason: "seen" }],
    });
  });
});
