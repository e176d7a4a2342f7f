import { describe, expect, it } from "vitest";
import type { DatasetSplit } from "@rcmnet/db";
import { assignSplits, type SplitCandidate } from "./datasetSplit.ts";

/** `n` never-snapshotted cells of each group. */
function fresh(groups: string[], n: number): SplitCandidate[] {
  return groups.flatMap((g) => Array.from({ length: n }, (_, i) => ({ cellId: `${g}/${i}`, group: g, earlier: [] })));
}

const partOf = (parts: Map<string, DatasetSplit>, group: string) => new Set([...parts].filter(([id]) => id.startsWith(`${group}/`)).map(([, p]) => p));

describe("assignSplits", () => {
  it("keeps every patient's cells in one part and fills all three parts from three patients", () => {
    const groups = ["patient:A", "patient:B", "case:c"];
    const parts = assignSplits(fresh(groups, 10));
    for (const g of groups) expect(partOf(parts, g).size, g).toBe(1);
    expect(new Set(parts.values())).toEqual(new Set(["TRAIN", "VAL", "TEST"]));
  });

  it("approaches 70 / 15 / 15 of the cells with many patients", () => {
    const groups = Array.from({ length: 200 }, (_, i) => `patient:${i}`);
    const parts = assignSplits(fresh(groups, 5));
    const count = (p: DatasetSplit) => [...parts.values()].filter((v) => v === p).length / parts.size;
    expect(count("TRAIN")).toBeCloseTo(0.7, 1);
    expect(count("VAL")).toBeCloseTo(0.15, 1);
    expect(count("TEST")).toBeCloseTo(0.15, 1);
  });

  it("is deterministic whatever order the cells come in", () => {
    const cells = fresh(["patient:A", "patient:B", "patient:C", "patient:D", "patient:E"], 3);
    expect([...assignSplits([...cells].reverse())].sort()).toEqual([...assignSplits(cells)].sort());
  });

  it("keeps earlier parts, sends a known patient's new cells to its part, and locks TEST", () => {
    const cells: SplitCandidate[] = [
      { cellId: "A/old", group: "patient:A", earlier: ["TEST"] },
      { cellId: "A/new", group: "patient:A", earlier: [] },
      { cellId: "B/old", group: "patient:B", earlier: ["VAL"] },
      { cellId: "B/new", group: "patient:B", earlier: [] },
      // Split per cell by the v1 rule: the cell keeps its part, the patient's new cells take the
      // most protected part among its cells, and a cell seen in TEST anywhere stays in TEST.
      { cellId: "C/train", group: "patient:C", earlier: ["TRAIN"] },
      { cellId: "C/val", group: "patient:C", earlier: ["VAL"] },
      { cellId: "C/both", group: "patient:C", earlier: ["TRAIN", "TEST"] },
      { cellId: "C/new", group: "patient:C", earlier: [] },
    ];
    const parts = assignSplits(cells);
    expect(Object.fromEntries(parts)).toEqual({
      "A/old": "TEST",
      "A/new": "TEST",
      "B/old": "VAL",
      "B/new": "VAL",
      "C/train": "TRAIN",
      "C/val": "VAL",
      "C/both": "TEST",
      "C/new": "TEST",
    });
  });

  it("places a new patient by the parts already given, not from scratch", () => {
    // 20 cells already in TRAIN: the next patient goes to an empty part (TEST before VAL).
    const known: SplitCandidate[] = Array.from({ length: 20 }, (_, i) => ({ cellId: `K/${i}`, group: "patient:K", earlier: ["TRAIN"] }));
    const parts = assignSplits([...known, ...fresh(["patient:N"], 4)]);
    expect(partOf(parts, "patient:N")).toEqual(new Set(["TEST"]));
  });

  it("returns nothing for nothing", () => {
    expect(assignSplits([]).size).toBe(0);
  });
});
