import { describe, expect, it } from "vitest";
import type { DatasetSplit } from "@rcmnet/db";
import { assignSplits, crossPartDuplicates, type SplitCandidate } from "./datasetSplit.ts";

/** `n` never-snapshotted cells of each group. */
function fresh(groups: string[], n: number): SplitCandidate[] {
  return groups.flatMap((g) => Array.from({ length: n }, (_, i) => ({ cellId: `${g}/${i}`, group: g, earlier: [] })));
}

const partOf = (parts: Map<string, DatasetSplit>, group: string) => new Set([...parts].filter(([id]) => id.startsWith(`${group}/`)).map(([, p]) => p));

describe("assignSplits", () => {
  it("keeps every patient's cells in one part and fills all three parts from three patients", () => {
    const groups = ["patient:A", "patient:B", "patient:C"];
    const { parts, heldOut } = assignSplits(fresh(groups, 10));
    for (const g of groups) expect(partOf(parts, g).size, g).toBe(1);
    expect(new Set(parts.values())).toEqual(new Set(["TRAIN", "VAL", "TEST"]));
    expect(heldOut).toEqual([]);
  });

  it("leaves cases without a patient reference out of every part, and places patients as if they were not there", () => {
    // In TRAIN such a case could be the same patient as a TEST case (a follow-up smear entered
    // without the study id), in VAL or TEST the same as a TRAIN one: the split cannot keep them apart.
    const { parts, heldOut, withoutPatient } = assignSplits(fresh(["case:x", "case:y", "case:z", "patient:A"], 10));
    for (const g of ["case:x", "case:y", "case:z"]) expect(partOf(parts, g), g).toEqual(new Set());
    expect(withoutPatient.sort()).toEqual(fresh(["case:x", "case:y", "case:z"], 10).map((c) => c.cellId).sort());
    expect(heldOut).toEqual([]);
    // The one patient is the first placed, into an empty TRAIN: the left-out cells weigh nothing.
    expect(partOf(parts, "patient:A")).toEqual(new Set(["TRAIN"]));
  });

  it("leaves a patient-less case out even where an earlier snapshot put it (TEST)", () => {
    const { parts, withoutPatient } = assignSplits([
      { cellId: "case:x/old", group: "case:x", earlier: ["TEST"] },
      { cellId: "case:x/new", group: "case:x", earlier: [] },
    ]);
    expect(parts.size).toBe(0);
    expect(withoutPatient.sort()).toEqual(["case:x/new", "case:x/old"]);
  });

  it("approaches 70 / 15 / 15 of the cells with many patients", () => {
    const groups = Array.from({ length: 200 }, (_, i) => `patient:${i}`);
    const { parts } = assignSplits(fresh(groups, 5));
    const share = (p: DatasetSplit) => [...parts.values()].filter((v) => v === p).length / parts.size;
    expect(share("TRAIN")).toBeCloseTo(0.7, 1);
    expect(share("VAL")).toBeCloseTo(0.15, 1);
    expect(share("TEST")).toBeCloseTo(0.15, 1);
  });

  it("is deterministic whatever order the cells come in", () => {
    const cells = fresh(["patient:A", "patient:B", "patient:C", "patient:D", "patient:E"], 3);
    expect([...assignSplits([...cells].reverse()).parts].sort()).toEqual([...assignSplits(cells).parts].sort());
  });

  it("keeps earlier parts, sends a known patient's new cells to its part, and locks TEST", () => {
    const cells: SplitCandidate[] = [
      { cellId: "A/old", group: "patient:A", earlier: ["TEST"] },
      { cellId: "A/new", group: "patient:A", earlier: [] },
      { cellId: "B/old", group: "patient:B", earlier: ["VAL"] },
      { cellId: "B/new", group: "patient:B", earlier: [] },
      { cellId: "C/both", group: "patient:C", earlier: ["TRAIN", "TEST"] },
    ];
    const { parts, heldOut } = assignSplits(cells);
    expect(Object.fromEntries(parts)).toEqual({ "A/old": "TEST", "A/new": "TEST", "B/old": "VAL", "B/new": "VAL", "C/both": "TEST" });
    expect(heldOut).toEqual([]);
  });

  it("holds out cells that sat in a less protected part than their patient's", () => {
    // Spread over all parts (split per cell by rule v1, or a case linked to another patient):
    // the patient is a TEST patient; its TRAIN and VAL cells can go nowhere without a leak.
    const cells: SplitCandidate[] = [
      { cellId: "C/train", group: "patient:C", earlier: ["TRAIN"] },
      { cellId: "C/val", group: "patient:C", earlier: ["VAL"] },
      { cellId: "C/test", group: "patient:C", earlier: ["TEST"] },
      { cellId: "C/new", group: "patient:C", earlier: [] },
    ];
    const { parts, heldOut } = assignSplits(cells);
    expect(Object.fromEntries(parts)).toEqual({ "C/test": "TEST", "C/new": "TEST" });
    expect(heldOut.sort()).toEqual(["C/train", "C/val"]);
  });

  it("takes a patient's part from cells outside this snapshot too", () => {
    // Patient P's only earlier cells (TEST) are in a case being amended, so not among the
    // candidates: P's new case still goes to TEST, not to whichever part is emptiest.
    const { parts } = assignSplits(fresh(["patient:P"], 4), new Map([["patient:P", ["TEST"] as DatasetSplit[]]]));
    expect(partOf(parts, "patient:P")).toEqual(new Set(["TEST"]));
    const none = assignSplits(fresh(["patient:P"], 4));
    expect(partOf(none.parts, "patient:P")).toEqual(new Set(["TRAIN"]));
  });

  it("places a new patient by the parts already given, not from scratch", () => {
    // 20 cells already in TRAIN: the next patient goes to an empty part (TEST before VAL).
    const known: SplitCandidate[] = Array.from({ length: 20 }, (_, i) => ({ cellId: `K/${i}`, group: "patient:K", earlier: ["TRAIN"] }));
    const { parts } = assignSplits([...known, ...fresh(["patient:N"], 4)]);
    expect(partOf(parts, "patient:N")).toEqual(new Set(["TEST"]));
  });

  it("returns nothing for nothing", () => {
    expect(assignSplits([]).parts.size).toBe(0);
  });
});

describe("crossPartDuplicates", () => {
  const row = (cellId: string, cropSha256: string, split: DatasetSplit) => ({ cellId, cropSha256, split });
  it("holds out TEST cells whose image is learned from as another cell, here or in an earlier snapshot", () => {
    const rows = [row("train-a", "a", "TRAIN"), row("test-a", "a", "TEST"), row("test-b", "b", "TEST"), row("test-c", "c", "TEST"), row("val-d", "d", "VAL")];
    expect(crossPartDuplicates(rows, [])).toEqual(new Set(["test-a"]));
    expect(crossPartDuplicates(rows, [row("old-b", "b", "TRAIN")])).toEqual(new Set(["test-a", "test-b"]));
    // A cell's own earlier TRAIN part is assignSplits' business (it keeps a cell once in TEST there).
    expect(crossPartDuplicates(rows, [row("test-c", "c", "TRAIN")])).toEqual(new Set(["test-a"]));
    // Two TEST cells of one image are no leak: a model learns from neither.
    expect(crossPartDuplicates([row("t1", "x", "TEST"), row("t2", "x", "TEST")], [])).toEqual(new Set());
  });

  it("matches the same image under other bytes by its pixels (pixelKey), here and in earlier snapshots", () => {
    // One crop uploaded as PNG at two compression levels: other bytes (cropSha256), the same pixels.
    const px = (cellId: string, cropSha256: string, pixelKey: string | null, split: DatasetSplit) => ({ cellId, cropSha256, pixelKey, split });
    const rows = [px("a-train", "bytes-1", "pix@0,0,64x64", "TRAIN"), px("b-test", "bytes-2", "pix@0,0,64x64", "TEST"), px("c-test", "bytes-3", null, "TEST")];
    expect(crossPartDuplicates(rows, [])).toEqual(new Set(["b-test"]));
    // An earlier TEST cell of those pixels under third bytes: the new TRAIN copy is held out, the TEST one kept.
    expect(crossPartDuplicates(rows, [px("old-test", "bytes-0", "pix@0,0,64x64", "TEST")])).toEqual(new Set(["a-train"]));
    // The same pixels in another box of the same field are another cell's image; no pixel key, no match.
    expect(crossPartDuplicates([px("t", "x", "pix@0,0,64x64", "TRAIN"), px("u", "y", "pix@64,0,64x64", "TEST"), px("v", "z", null, "TEST")], [])).toEqual(new Set());
  });

  it("holds out TRAIN and VAL cells whose image is an earlier snapshot's TEST cell, keeping that TEST part unseen", () => {
    const rows = [row("new-train", "x", "TRAIN"), row("new-val", "y", "VAL"), row("old-test", "x", "TEST")];
    const earlier = [row("old-test", "x", "TEST"), row("old-test-y", "y", "TEST")];
    // new-train and new-val are held out; old-test stays TEST (what learned its image is gone).
    expect(crossPartDuplicates(rows, earlier)).toEqual(new Set(["new-train", "new-val"]));
  });
});
