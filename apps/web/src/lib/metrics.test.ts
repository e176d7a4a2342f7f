import { describe, expect, it } from "vitest";
import { accuracyDifferenceText, type PairingEvidence, pairingWarning, points, pValueText, readTestMetrics, recallWithInterval } from "./metrics";

describe("test metrics", () => {
  it("keep the abstention column of the API's confusion matrix (rows true, columns predicted)", () => {
    const m = readTestMetrics({
      accuracy: 0.5,
      confusion: { labels: ["a", "b"], predictedLabels: ["a", "b", "unidentified"], matrix: [[1, 0, 1], [0, 1, 1]] },
    });
    expect(m.confusion).toEqual({ labels: ["a", "b"], predictedLabels: ["a", "b", "unidentified"], matrix: [[1, 0, 1], [0, 1, 1]] });
  });
  it("read older square matrices with the labels as columns, and refuse ragged ones", () => {
    expect(readTestMetrics({ confusion: { labels: ["a", "b"], matrix: [[2, 0], [1, 1]] } }).confusion?.predictedLabels).toEqual(["a", "b"]);
    expect(readTestMetrics({ confusion: { labels: ["a", "b"], matrix: [[2, 0, 1], [1, 1]] } }).confusion).toBeNull();
  });
});

describe("a promotion's evidence", () => {
  const unpaired = { difference: -0.2, lower: -0.421, upper: 0.001 };
  const paired = { cells: 20, bothRight: 15, candidateOnlyRight: 4, championOnlyRight: 1, bothWrong: 0, mcnemarP: 0.375, difference: 0.15, lower: -0.083, upper: 0.375 };

  it("reads the top-1 difference cell by cell where it was paired: b, c, McNemar's p and the paired interval", () => {
    const e: PairingEvidence = { accuracyDifference: unpaired, pairing: "PAIRED", pairingNote: null, paired };
    expect(accuracyDifferenceText(e)).toBe(
      "Cell by cell on the same 20 TEST cells: only the candidate right on 4 (b), only the champion on 1 (c), both on 15, neither on 0; exact McNemar test p = 0.38. Top-1 difference +15.0 points (paired 95% interval −8.3 to +37.5).",
    );
    expect(pairingWarning(e)).toBeNull();
  });

  it("calls the counts' interval unpaired otherwise, with the reason; evaluations on different items are a warning", () => {
    const older: PairingEvidence = { accuracyDifference: unpaired, pairing: "NOT_RECORDED", pairingNote: "Filed before the paired comparison was recorded", paired: null };
    expect(accuracyDifferenceText(older)).toBe("Top-1 difference −20.0 points (unpaired 95% interval −42.1 to +0.1). Filed before the paired comparison was recorded.");
    expect(pairingWarning(older)).toBeNull();
    const elsewhere: PairingEvidence = { accuracyDifference: unpaired, pairing: "DIFFERENT_ITEMS", pairingNote: "The two evaluations were made on different TEST items", paired: null };
    expect(accuracyDifferenceText(elsewhere)).toBe("Top-1 difference −20.0 points (unpaired 95% interval −42.1 to +0.1).");
    expect(pairingWarning(elsewhere)).toBe("The two evaluations were made on different TEST items.");
    // Nothing recorded at all: nothing said.
    expect(accuracyDifferenceText({ accuracyDifference: null, pairing: "NOT_RECORDED", pairingNote: null, paired: null })).toBe("");
  });

  it("writes p-values, points and recalls with their intervals as they are read", () => {
    expect(pValueText(0.021484375)).toBe("p = 0.021");
    expect(pValueText(0.0004)).toBe("p < 0.001");
    expect(pValueText(1)).toBe("p = 1");
    expect(pValueText(0.05)).toBe("p = 0.05");
    expect([points(0.15), points(-0.083), points(0)]).toEqual(["+15.0", "−8.3", "0.0"]);
    // 3 of 4: an interval that says how little 4 cells tell.
    expect(recallWithInterval({ recall: 0.75, recallCi95: [0.3, 0.955] })).toBe("75.0% (30.0–95.5%)");
    expect(recallWithInterval({ recall: 1, recallCi95: [0.51, 1] })).toBe("100.0% (51.0–100.0%)");
    // Older evidence without an interval, a class with no TEST cell, a class the champion lacks.
    expect(recallWithInterval({ recall: 0.5 })).toBe("50.0%");
    expect(recallWithInterval({ recall: null, recallCi95: null })).toBe("—");
    expect(recallWithInterval(undefined)).toBe("—");
  });
});
