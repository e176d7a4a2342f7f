import { describe, expect, it } from "vitest";
import { thresholdPercent } from "@/lib/format";
import { labelKey } from "@/lib/labels";
import {
  amendmentDecisions,
  bulkConfirmable,
  chooseIntent,
  signingMeaning,
  differential,
  groupCells,
  initialState,
  isLowConfidence,
  keyIntent,
  nextUnreviewed,
  orderedCells,
  progress,
  seenState,
  reduce,
  type ReviewCell,
  viewingOnly,
} from "./model";

const LABELS = ["car_t", "lymphocyte", "neutrophil", "artifact"];

function cell(id: string, label: string, confidence: number, extra: Partial<ReviewCell> = {}): ReviewCell {
  return {
    id,
    slideId: "s",
    cropSha256: id.padEnd(64, "0"),
    box: { x: 0, y: 0, width: 10, height: 10 },
    ai: { label, confidence, abstained: false, modelVersion: "m@1" },
    decision: null,
    currentLabel: label,
    reviewCount: 0,
    ...extra,
  };
}

const cells = [
  cell("a", "car_t", 0.9),
  cell("b", "car_t", 0.55),
  cell("c", "lymphocyte", 0.8),
  cell("d", "artifact", 0.7),
  cell("e", "neutrophil", 0.99),
];

describe("gallery grouping", () => {
  it("groups by current class in label order, least certain first", () => {
    const groups = groupCells(LABELS, cells);
    expect(groups.map((g) => g.label)).toEqual(["car_t", "lymphocyte", "neutrophil", "artifact"]);
    expect(groups[0]!.cells.map((c) => c.id)).toEqual(["b", "a"]);
    expect(orderedCells({ labels: LABELS, cells }).map((c) => c.id)).toEqual(["b", "a", "c", "e", "d"]);
  });

  it("keeps labels the model does not know in a group of their own", () => {
    const groups = groupCells(LABELS, [...cells, cell("x", "monocyte", 0.5)]);
    expect(groups.at(-1)!.label).toBe("monocyte");
  });
});

describe("differential count", () => {
  it("counts labels in force and leaves artifacts out of the denominator", () => {
    const d = differential(LABELS, cells, true);
    expect(d.total).toBe(5);
    expect(d.counted).toBe(4);
    expect(d.rows.find((r) => r.label === "car_t")).toEqual({ label: "car_t", count: 2, percent: 50 });
    expect(d.rows.find((r) => r.label === "artifact")).toEqual({ label: "artifact", count: 1, percent: null });
    expect(d.rows.reduce((s, r) => s + (r.percent ?? 0), 0)).toBeCloseTo(100);
    // Four white cells: far under the 100 of a manual differential.
    expect(d.summary).toMatchObject({ cartPercent: 50, belowMinimum: true });
  });

  it("keeps platelets, nucleated red cells and unidentified cells out of the white-cell denominator", () => {
    const labels = ["car_t", "lymphocyte", "platelet", "erythroblast", "unidentified", "artifact"];
    const d = differential(labels, [
      cell("a", "car_t", 0.9),
      cell("b", "lymphocyte", 0.9),
      cell("c", "platelet", 0.9),
      cell("d", "erythroblast", 0.9),
      cell("e", "unidentified", 0.9),
    ], true);
    expect(d.counted).toBe(2);
    expect(d.rows.map((r) => [r.label, r.percent])).toEqual([["car_t", 50], ["lymphocyte", 50], ["platelet", null], ["erythroblast", null], ["unidentified", null], ["artifact", null]]);
    expect(d.summary).toMatchObject({ lymphocytePercent: 100, cartPercentOfLymphocytes: 50, nrbcPer100Wbc: 50 });
  });

  it("gives no CAR-T figures when the cells were not screened for CAR-T, not 0%", () => {
    const d = differential(LABELS, cells, false);
    expect(d.summary).toMatchObject({ cartAssessed: false, cartCount: 2, cartPercent: null, cartPercentCi95: null, cartPercentOfLymphocytes: null });
    // The rows are still the labels in force.
    expect(d.rows.find((r) => r.label === "car_t")).toEqual({ label: "car_t", count: 2, percent: 50 });
  });

  it("is all zeros for an empty case", () => {
    const d = differential(LABELS, [], true);
    expect(d.rows.every((r) => r.count === 0 && (r.percent === 0 || r.percent === null))).toBe(true);
  });
});

describe("keyboard", () => {
  const s0 = initialState(LABELS, cells);

  it("starts on the least certain cell and moves with arrows, clamped", () => {
    expect(s0.cursor).toBe("b");
    let s = reduce(s0, { type: "move", delta: -1 });
    expect(s.cursor).toBe("b");
    const intent = keyIntent(s, "ArrowRight");
    expect(intent).toEqual({ kind: "dispatch", action: { type: "move", delta: 1 } });
    s = reduce(s, { type: "move", delta: 10 });
    expect(s.cursor).toBe("d");
  });

  it("Enter confirms the AI label without a reason", () => {
    expect(keyIntent(s0, "Enter")).toEqual({ kind: "save", request: { cellIds: ["b"], label: "car_t", reason: null } });
  });

  it("a number key that overrides the AI opens the reason prompt", () => {
    const intent = keyIntent(s0, "2");
    expect(intent).toEqual({ kind: "dispatch", action: { type: "choose", cellIds: ["b"], label: "lymphocyte" } });
    const prompted = reduce(s0, (intent as Extract<typeof intent, { kind: "dispatch" }>).action);
    expect(prompted.prompt).toEqual({ cellIds: ["b"], label: "lymphocyte" });
    // Keys do nothing while the prompt is open.
    expect(keyIntent(prompted, "Enter")).toEqual({ kind: "none" });
    expect(reduce(prompted, { type: "cancelPrompt" }).prompt).toBeNull();
  });

  it("the number of the AI's own label saves directly", () => {
    expect(keyIntent(s0, "1")).toEqual({ kind: "save", request: { cellIds: ["b"], label: "car_t", reason: null } });
  });

  it("ignores keys beyond the label list, modified keys and cells being saved", () => {
    expect(keyIntent(s0, "9")).toEqual({ kind: "none" });
    expect(keyIntent(s0, "1", { ctrl: true })).toEqual({ kind: "none" });
    expect(keyIntent(reduce(s0, { type: "saving", cellIds: ["b"] }), "Enter")).toEqual({ kind: "none" });
  });

  it("a label chosen by pointer follows the same rules as its key", () => {
    const s = initialState(LABELS, cells);
    const cursor = s.cursor!;
    const cur = s.cells.find((c) => c.id === cursor)!;
    const other = LABELS.find((l) => l !== cur.currentLabel)!;
    expect(chooseIntent(s, cur.currentLabel)).toEqual(keyIntent(s, "Enter"));
    expect(chooseIntent(s, other)).toEqual(keyIntent(s, labelKey(other)!));
    expect(chooseIntent(s, "not-a-label")).toEqual({ kind: "none" });
    expect(chooseIntent(reduce(s, { type: "saving", cellIds: [cursor] }), other)).toEqual({ kind: "none" });
  });

  it("g toggles Grad-CAM", () => {
    const intent = keyIntent(s0, "g");
    expect(intent.kind).toBe("dispatch");
    expect(reduce(s0, (intent as Extract<typeof intent, { kind: "dispatch" }>).action).gradcam).toBe(true);
  });

  it("an abstained prediction reads as unidentified; confirming it, out of the count, asks why", () => {
    const abst = cell("z", "unidentified", 0.3, { ai: { label: "car_t", confidence: 0.3, abstained: true, modelVersion: "m@1" } });
    const s = initialState(["car_t", "unidentified"], [abst]);
    expect(keyIntent(s, "Enter")).toEqual({ kind: "dispatch", action: { type: "choose", cellIds: ["z"], label: "unidentified" } });
    expect(keyIntent(s, "1").kind).toBe("dispatch");
    // Even once a human left it unidentified: each such decision carries its reason.
    const decided = { ...abst, decision: { action: "CONFIRM" as const, label: "unidentified", reviewer: "h", reason: "smudged", at: "" } };
    expect(keyIntent(initialState(["car_t", "unidentified"], [decided]), "Enter").kind).toBe("dispatch");
  });
});

describe("saving and progress", () => {
  it("records a decision, regroups the cell and counts it reviewed", () => {
    let s = initialState(LABELS, cells);
    s = reduce(s, { type: "saving", cellIds: ["b"] });
    expect(s.saving.has("b")).toBe(true);
    s = reduce(s, {
      type: "saved",
      cellId: "b",
      reviewCount: 1,
      decision: { action: "RECLASSIFY", label: "lymphocyte", reviewer: "hema", reason: "nucleus", at: "2026-01-01T00:00:00Z" },
    });
    expect(s.saving.has("b")).toBe(false);
    expect(progress(s.cells)).toEqual({ reviewed: 1, total: 5, overrides: 1 });
    expect(groupCells(LABELS, s.cells)[1]!.cells.map((c) => c.id)).toEqual(["b", "c"]);
    expect(differential(LABELS, s.cells, true).rows.find((r) => r.label === "lymphocyte")!.count).toBe(2);
    // Re-choosing the human's own override needs no second reason.
    s = reduce(s, { type: "select", cellId: "b" });
    expect(keyIntent(s, "Enter")).toEqual({ kind: "save", request: { cellIds: ["b"], label: "lymphocyte", reason: null } });
  });

  it("a failure clears the in-flight mark and shows the message", () => {
    let s = reduce(initialState(LABELS, cells), { type: "saving", cellIds: ["a", "b"] });
    s = reduce(s, { type: "failed", cellIds: ["a", "b"], message: "Someone else changed this record first." });
    expect(s.saving.size).toBe(0);
    expect(s.error).toMatch(/changed/);
  });

  it("a failed single decision leaves the cursor where the reviewer is and names its cell until answered", () => {
    let s = reduce(initialState(LABELS, cells), { type: "select", cellId: "c" });
    s = reduce(s, { type: "saving", cellIds: ["b"] });
    s = reduce(s, { type: "failed", cellIds: ["b"], message: "Another reviewer changed this cell first" });
    // The next keystroke goes to the cell on screen, not to the failed one.
    expect(s.cursor).toBe("c");
    expect(s.errorCellId).toBe("b");
    // Deciding another cell keeps the notice; deciding the failed one again answers it.
    s = reduce(s, { type: "saving", cellIds: ["c"] });
    expect(s.error).toMatch(/changed this cell/);
    const decision = { action: "CONFIRM" as const, label: "car_t", reviewer: "me", reason: null, at: "" };
    expect(reduce(s, { type: "saved", cellId: "c", decision, reviewCount: 1 }).error).not.toBeNull();
    expect(reduce(s, { type: "saved", cellId: "b", decision, reviewCount: 2 })).toMatchObject({ error: null, errorCellId: null });
    expect(reduce(s, { type: "dismissError" })).toMatchObject({ error: null, errorCellId: null });
  });

  it("a read-only case allows looking (arrows, G) but no decision", () => {
    const s = initialState(LABELS, cells);
    expect(viewingOnly(keyIntent(s, "ArrowRight"))).toBe(true);
    expect(viewingOnly(keyIntent(s, "g"))).toBe(true);
    expect(viewingOnly(keyIntent(s, "Enter"))).toBe(false);
    expect(viewingOnly(keyIntent(s, "2"))).toBe(false);
  });

  it("Backspace goes back through the cells decided, latest first, to correct a slip", () => {
    const decision = { action: "CONFIRM" as const, label: "car_t", reviewer: "me", reason: null, at: "" };
    let s = initialState(LABELS, cells);
    expect(reduce(s, { type: "back" })).toBe(s);
    for (const id of ["a", "b"]) s = reduce(s, { type: "saved", cellId: id, decision, reviewCount: 1 });
    s = reduce(s, { type: "select", cellId: "c" });
    expect(keyIntent(s, "Backspace")).toEqual({ kind: "dispatch", action: { type: "back" } });
    s = reduce(s, { type: "back" });
    expect(s.cursor).toBe("b");
    s = reduce(s, { type: "back" });
    expect(s.cursor).toBe("a");
    expect(reduce(s, { type: "back" }).cursor).toBe("a");
  });

  it("fresh cells from the server replace the local ones and keep the cursor where it can", () => {
    let s = reduce(initialState(LABELS, cells), { type: "select", cellId: "c" });
    const decided = cells.map((c) => (c.id === "c" ? { ...c, reviewCount: 1, decision: { action: "CONFIRM" as const, label: "lymphocyte", reviewer: "other", reason: null, at: "" } } : c));
    s = reduce(s, { type: "replaceCells", cells: decided });
    expect(s.cursor).toBe("c");
    expect(progress(s.cells).reviewed).toBe(1);
  });

  it("finds the next unreviewed cell, wrapping around", () => {
    const reviewedA = cells.map((c) => (c.id === "c" ? { ...c, decision: { action: "CONFIRM" as const, label: "lymphocyte", reviewer: "h", reason: null, at: "" } } : c));
    expect(nextUnreviewed({ labels: LABELS, cells: reviewedA }, "a")).toBe("e");
    expect(nextUnreviewed({ labels: LABELS, cells: reviewedA }, "d")).toBe("b");
  });

  it("bulk confirm takes only unreviewed cells that agree with the AI", () => {
    const mixed = [
      cell("p", "car_t", 0.9),
      cell("q", "car_t", 0.8, { decision: { action: "CONFIRM", label: "car_t", reviewer: "h", reason: null, at: "" } }),
      cell("r", "car_t", 0.7, { ai: { label: "lymphocyte", confidence: 0.7, abstained: false, modelVersion: "m" } }),
    ];
    expect(bulkConfirmable(groupCells(LABELS, mixed)[0]!, 0.8)).toEqual(["p"]);
  });

  it("flags AI calls under 80% and leaves them out of bulk confirm", () => {
    const group = [cell("sure", "car_t", 0.95), cell("edge", "car_t", 0.8), cell("unsure", "car_t", 0.79), cell("abst", "car_t", 0.3, { ai: { label: "car_t", confidence: 0.3, abstained: true, modelVersion: "m" } })];
    expect(group.map((c) => isLowConfidence(c, 0.8))).toEqual([false, false, true, false]);
    expect(isLowConfidence(cell("none", "car_t", 0, { ai: null }), 0.8)).toBe(false);
    expect(bulkConfirmable(groupCells(LABELS, group)[0]!, 0.8).sort()).toEqual(["edge", "sure"]);
    // The threshold is the API's policy, not a constant of the page.
    expect(group.map((c) => isLowConfidence(c, 0.9))).toEqual([false, true, true, false]);
    expect(bulkConfirmable(groupCells(LABELS, group)[0]!, 0.9)).toEqual(["sure"]);
    // A cell still saving from the last bulk confirm is not offered again.
    expect(bulkConfirmable(groupCells(LABELS, group)[0]!, 0.8, new Set(["sure"]))).toEqual(["edge"]);
    expect(thresholdPercent(0.8)).toBe("80%");
    expect(thresholdPercent(0.855)).toBe("85.5%");
    // Abstained and unpredicted cells (shown as "unidentified") are not bulk-confirmable either.
    const unidentified = [cell("abst", "unidentified", 0.3, { ai: { label: "car_t", confidence: 0.3, abstained: true, modelVersion: "m" } }), cell("none", "unidentified", 0, { ai: null })];
    expect(bulkConfirmable({ label: "unidentified", cells: unidentified }, 0.8)).toEqual([]);
  });
});

describe("seen state", () => {
  it("counts the cells and the decisions on the page, which a signature is bound to", () => {
    const cells = [cell("a", "car_t", 0.9), { ...cell("b", "car_t", 0.9), reviewCount: 2 }, { ...cell("c", "car_t", 0.9), reviewCount: 1 }];
    expect(seenState(cells)).toEqual({ seenCells: 3, seenDecisions: 3 });
    expect(seenState([])).toEqual({ seenCells: 0, seenDecisions: 0 });
  });
});

describe("sign-off meaning", () => {
  it("offers plain approval when the reviewer agreed with the AI everywhere, and lets them say 'with corrections'", () => {
    expect(signingMeaning({ amendment: null, overrides: 0 }, null)).toEqual({ meaning: "Reviewed and approved", fitting: ["Reviewed and approved", "Reviewed and approved with corrections"] });
    expect(signingMeaning({ amendment: null, overrides: 0 }, "Reviewed and approved with corrections").meaning).toBe("Reviewed and approved with corrections");
  });
  it("only 'with corrections' once a decision overrides the AI, even if plain approval was chosen before", () => {
    expect(signingMeaning({ amendment: null, overrides: 1 }, "Reviewed and approved")).toEqual({ meaning: "Reviewed and approved with corrections", fitting: ["Reviewed and approved with corrections"] });
  });
  it("an amendment signs as an amended report", () => {
    expect(signingMeaning({ amendment: { relabelled: 1 }, overrides: 2 }, null).meaning).toBe("Amended report: reviewed and approved with corrections");
    expect(signingMeaning({ amendment: { relabelled: 0 }, overrides: 0 }, null).meaning).toBe("Amended report: reviewed and approved");
  });
});

describe("amendmentDecisions", () => {
  it("counts the decisions made since the signed version, and the relabellings among them", () => {
    // `signed`: the label each cell carried in the signed version 1.
    const decided = (id: string, action: "CONFIRM" | "RECLASSIFY", reportVersion: number, signed: string | null) =>
      cell(id, "car_t", 0.9, { decision: { action, label: "car_t", reviewer: "h", reason: null, at: "", reportVersion }, roundLabels: signed === null ? { [reportVersion]: "car_t" } : { 0: signed, [reportVersion]: "car_t" } });
    const cells = [
      decided("a", "CONFIRM", 0, "car_t"),
      decided("b", "RECLASSIFY", 0, "car_t"),
      decided("c", "RECLASSIFY", 1, "lymphocyte"),
      decided("d", "CONFIRM", 1, "car_t"),
      // Relabelled lymphocyte → CAR-T in the amendment, then that confirmed (number key, then Enter).
      decided("f", "CONFIRM", 1, "lymphocyte"),
      // Relabelled, then relabelled back to what was signed: no change.
      decided("g", "RECLASSIFY", 1, "car_t"),
      // A cell of an image added during the amendment: decided, but not a relabelling.
      decided("h", "RECLASSIFY", 1, null),
      cell("e", "car_t", 0.9),
    ];
    expect(amendmentDecisions(cells, 1)).toEqual({ of: 1, decisions: 5, relabelled: 2 });
    expect(amendmentDecisions(cells, 0)).toBeNull();
  });
});

describe("unsaved decisions", () => {
  it("are kept past a dismissed message, until the cell saves or the case reloads", () => {
    let s = initialState(LABELS, cells);
    s = reduce(s, { type: "saving", cellIds: ["b"] });
    s = reduce(s, { type: "failed", cellIds: ["b"], message: "network" });
    expect([...s.unsaved]).toEqual(["b"]);
    s = reduce(s, { type: "dismissError" });
    expect(s.error).toBeNull();
    expect([...s.unsaved]).toEqual(["b"]);
    const saved = reduce(s, { type: "saved", cellId: "b", decision: { action: "CONFIRM", label: "car_t", reviewer: "h", reason: null, at: "" }, reviewCount: 1 });
    expect(saved.unsaved.size).toBe(0);
    expect(reduce(s, { type: "replaceCells", cells }).unsaved.size).toBe(0);
  });
});
