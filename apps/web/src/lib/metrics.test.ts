import { describe, expect, it } from "vitest";
import {
  accuracyDifferenceText,
  leakageText,
  type PairingEvidence,
  pairingWarning,
  points,
  pValueText,
  readTestMetrics,
  recallWithInterval,
  regressionText,
  testCellsText,
} from "./metrics";

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
  const paired = { cells: 20, bothRight: 15, candidateOnlyRight: 4, championOnlyRight: 1, bothWrong: 0, mcnemarP: 0.21875, mcnemarTest: "MID_P" as const, difference: 0.15, lower: -0.083, upper: 0.375 };

  it("reads the top-1 difference cell by cell where it was paired: b, c, McNemar's mid-p and the paired interval", () => {
    const e: PairingEvidence = { accuracyDifference: unpaired, pairing: "PAIRED", pairingNote: null, paired };
    expect(accuracyDifferenceText(e)).toBe(
      "Cell by cell on the same 20 TEST cells: only the candidate right on 4 (b), only the champion on 1 (c), both on 15, neither on 0; McNemar mid-p = 0.219. Top-1 difference +15.0 points (paired 95% interval −8.3 to +37.5).",
    );
    expect(pairingWarning(e)).toBeNull();
    // Frozen before the switch to mid-p: the exact p it holds, named as such.
    expect(accuracyDifferenceText({ ...e, paired: { ...paired, mcnemarP: 0.375, mcnemarTest: "EXACT" } })).toContain("; exact McNemar test p = 0.375. ");
  });

  it("warns where a per-cell record contradicts its evaluation, or there was no TEST cell, as for different items", () => {
    const note = "The candidate's evaluation on this snapshot keeps per-cell calls that contradict its own figures (19 of 20 cells right in the calls, 20 by its accuracy): a damaged or altered record";
    const damaged: PairingEvidence = { accuracyDifference: unpaired, pairing: "INCONSISTENT", pairingNote: note, paired: null };
    expect(pairingWarning(damaged)).toBe(`${note}.`);
    // The note is the warning, not a reason beside the figures.
    expect(accuracyDifferenceText(damaged)).toBe("Top-1 difference −20.0 points (unpaired 95% interval −42.1 to +0.1).");
    expect(pairingWarning({ ...damaged, pairingNote: null })).toBe("A per-cell record contradicts its own evaluation: damaged or altered, not paired.");
    expect(pairingWarning({ accuracyDifference: null, pairing: "NO_TEST_CELLS", pairingNote: null, paired: null })).toBe("The TEST part has no cell: nothing to compare.");
  });

  it("calls a regression what it is, a point estimate below the champion's, with a class's paired counts where there are some", () => {
    const lymphocytes = { measure: "recall", label: "lymphocyte", candidate: 0.9, champion: 1, support: 10 };
    expect(
      regressionText(
        {
          regressions: [
            { measure: "macroF1", label: null, candidate: 0.8, champion: 0.85, support: null, paired: null },
            { ...lymphocytes, paired: { candidateOnlyRight: 0, championOnlyRight: 1, mcnemarP: 0.5, mcnemarTest: "MID_P" } },
          ],
          acceptedRegression: true,
        },
        (l) => l.toUpperCase(),
      ),
    ).toBe(
      "Below the champion (point estimates, not a test): macro-F1 80.0% against 85.0%; LYMPHOCYTE recall 90.0% against 100.0% (10 cells; cell by cell, only the candidate right on 0 of them, only the champion on 1, McNemar mid-p = 0.5) (the proposer acknowledged it).",
    );
    // Not paired, or filed before: the point estimates alone.
    expect(regressionText({ regressions: [{ ...lymphocytes, paired: null }], acceptedRegression: false })).toBe(
      "Below the champion (point estimates, not a test): lymphocyte recall 90.0% against 100.0% (10 cells).",
    );
    expect(regressionText({ regressions: [], acceptedRegression: false })).toBeNull();
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

  it("says a first promotion has no champion to compare with, as a note, not a warning", () => {
    const first: PairingEvidence = {
      accuracyDifference: null,
      pairing: "NO_CHAMPION",
      pairingNote: "No champion to compare with: the first champion is weighed on its own figures on this TEST part",
      paired: null,
    };
    expect(accuracyDifferenceText(first)).toBe("No champion to compare with: the first champion is weighed on its own figures on this TEST part.");
    expect(pairingWarning(first)).toBeNull();
  });

  it("writes p-values, points and recalls with their intervals as they are read", () => {
    // Three significant digits: 0.0496 is not "0.05".
    expect(pValueText(0.0496)).toBe("p = 0.0496");
    expect(pValueText(0.0525)).toBe("p = 0.0525");
    expect(pValueText(0.021484375)).toBe("p = 0.0215");
    expect(pValueText(0.375)).toBe("p = 0.375");
    expect(pValueText(0.05)).toBe("p = 0.05");
    expect(pValueText(0.001)).toBe("p = 0.001");
    expect(pValueText(0.000999)).toBe("p < 0.001");
    expect(pValueText(0.0004)).toBe("p < 0.001");
    expect(pValueText(1)).toBe("p = 1");
    expect(pValueText(0.03468966, "McNemar mid-p")).toBe("McNemar mid-p = 0.0347");
    expect(pValueText(0.0002, "McNemar mid-p")).toBe("McNemar mid-p < 0.001");
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

describe("what a model learned from, beside its figures", () => {
  it("says a model trained outside the platform cannot be checked, never reading 0 leaked patients as none", () => {
    const outside = "trained outside this platform (it, or a model it was fine-tuned from): whether it learned from these TEST patients cannot be checked";
    expect(leakageText({ leakedPatients: 0, leakedCells: 0, trainingDataKnown: false })).toBe(outside);
    // Fine-tuned here from an outside model: what its own runs learned is counted, and the rest is unknown.
    expect(leakageText({ leakedPatients: 2, leakedCells: 7, trainingDataKnown: false })).toBe(`learned from 2 of these TEST patients (7 cells): optimistic; ${outside}`);
  });
  it("says nothing of a model trained here that learned from none, and counts one that did", () => {
    expect(leakageText({ leakedPatients: 0, leakedCells: 0, trainingDataKnown: true })).toBeNull();
    expect(leakageText({ leakedPatients: 1, leakedCells: 3, trainingDataKnown: true })).toBe("learned from 1 of these TEST patients (3 cells): optimistic");
  });
  it("says a proposal filed before it was recorded did not record it, rather than passing for checked", () => {
    expect(leakageText({ leakedPatients: 0, leakedCells: 0, trainingDataKnown: null })).toBe("whether it was trained outside this platform was not recorded");
  });
});

describe("a proposal's TEST part", () => {
  it("gives its cells with the minimum a promotion needed then, and no minimum where none was recorded", () => {
    expect(testCellsText({ testCells: 120, minTestCells: 100 })).toBe("120 TEST cells, at least 100 required");
    expect(testCellsText({ testCells: 20, minTestCells: null })).toBe("20 TEST cells");
    expect(testCellsText({ testCells: null, minTestCells: null })).toBe("");
  });
});
