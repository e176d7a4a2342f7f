import { describe, expect, it } from "vitest";
import { readTestMetrics } from "./metrics";

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
