import { describe, expect, it } from "vitest";
import { reviewCell } from "./testing";
import { thresholdPercent } from "@/lib/format";
import { labelKey } from "@/lib/labels";
import {
  amendmentDecisions,
  bulkConfirmable,
  cellToSend,
  chooseIntent,
  changedSince,
  failedDecision,
  signingMeaning,
  differential,
  groupCells,
  initialState,
  isLowConfidence,
  groupCountText,
  groupSummary,
  JUMP_KEYS,
  keyIntent,
  nextCursor,
  nextUnreviewed,
  HISTORY_KEY,
  orderedCells,
  suggestionModels,
  viewKey,
  type HumanDecision,
  type KeyIntent,
  type ReviewState,
  progress,
  seenState,
  signedRows,
  reduce,
  reviewDifferential,
  type ReviewCell,
  viewingOnly,
} from "./model";

const LABELS = ["car_t", "lymphocyte", "neutrophil", "artifact"];

/**
 * A bulk-confirm policy that excludes no label: the tests below are about the other rules (the
 * API's policy excludes CAR-T calls, whose tests are in bulkConfirm.test.ts).
 */
const anyLabel = (minConfidence: number) => ({ minConfidence, excludedLabels: [] });

const cell = reviewCell;

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

  it("counts blasts among the white cells, listed only where a cell has one", () => {
    const labels = ["car_t", "lymphocyte", "blast", "unidentified", "artifact"];
    expect(differential(labels, cells, true).rows.map((r) => r.label)).not.toContain("blast");
    const d = differential(labels, [cell("a", "car_t", 0.9), cell("b", "blast", 0.9), cell("c", "unidentified", 0.9)], true);
    expect(d.counted).toBe(2);
    expect(d.rows.map((r) => [r.label, r.count, r.percent])).toEqual([["car_t", 1, 50], ["lymphocyte", 0, 0], ["blast", 1, 50], ["unidentified", 1, null], ["artifact", 0, null]]);
  });

  it("is all zeros for an empty case", () => {
    const d = differential(LABELS, [], true);
    expect(d.rows.every((r) => r.count === 0 && (r.percent === 0 || r.percent === null))).toBe(true);
  });
});

describe("live differential of the review page", () => {
  // Every registered model's classes: car_t comes from a model that did not classify this case.
  const labels = ["car_t", "lymphocyte", "neutrophil", "monocyte", "unidentified", "artifact"];
  const screened = { cartAssessed: false, screenedClasses: ["lymphocyte", "neutrophil", "monocyte"] };

  it("lists no CAR-T row when CAR-T was not assessed and no cell is CAR-T (not \"CAR-T 0.0%\")", () => {
    const d = reviewDifferential(labels, [cell("a", "lymphocyte", 0.9), cell("b", "neutrophil", 0.9)], screened);
    expect(d.summary.cartAssessed).toBe(false);
    expect(d.rows.map((r) => [r.label, r.count, r.percent])).toEqual([["lymphocyte", 1, 50], ["neutrophil", 1, 50], ["monocyte", 0, 0]]);
  });

  it("still lists a reviewer's CAR-T calls, and CAR-T at 0 where the case's models screen for it", () => {
    expect(reviewDifferential(labels, [cell("a", "car_t", 0.9), cell("b", "lymphocyte", 0.9)], screened).rows.map((r) => [r.label, r.count])).toEqual([
      ["car_t", 1],
      ["lymphocyte", 1],
      ["neutrophil", 0],
      ["monocyte", 0],
    ]);
    const assessed = reviewDifferential(labels, [cell("b", "lymphocyte", 0.9)], { cartAssessed: true, screenedClasses: ["car_t", "lymphocyte"] });
    expect(assessed.rows).toEqual([
      { label: "car_t", count: 0, percent: 0 },
      { label: "lymphocyte", count: 1, percent: 100 },
    ]);
    // No white cell counted: no share at all (null, as the API signs it), never 0.
    expect(signedRows([], ["basophil", "erythroblast"])).toEqual([
      { label: "basophil", count: 0, percent: null },
      { label: "erythroblast", count: 0, percent: null },
    ]);
  });
});

describe("rows of the sign-off dialog", () => {
  // The page's labels: every registered model's classes (car_t from another model than this
  // case's), and the review categories, each with a row.
  const labels = ["car_t", "lymphocyte", "neutrophil", "monocyte", "platelet", "unidentified", "artifact"];
  const rowsOf = (list: ReviewCell[]) => differential(labels, list, false).rows;

  it("are the labels with cells and the zeros the API lists, no other class at 0", () => {
    const rows = rowsOf([cell("a", "lymphocyte", 0.9), cell("b", "neutrophil", 0.9), cell("c", "artifact", 0.9)]);
    // This case's model calls lymphocyte, neutrophil, monocyte and platelet: no CAR-T class.
    const signed = signedRows(rows, ["lymphocyte", "neutrophil", "monocyte", "platelet"]);
    expect(signed.map((r) => [r.label, r.count])).toEqual([["lymphocyte", 1], ["neutrophil", 1], ["monocyte", 0], ["platelet", 0], ["artifact", 1]]);
    expect(signed.some((r) => r.label === "car_t" || r.label === "unidentified")).toBe(false);
  });

  it("keep the page's live counts: a class a decision emptied since loading stays only if the API lists it", () => {
    // car_t had a reviewer's cell when the case was loaded; it was relabelled since.
    const signed = signedRows(rowsOf([cell("a", "lymphocyte", 0.9), cell("b", "lymphocyte", 0.9)]), ["lymphocyte", "monocyte"]);
    expect(signed).toEqual([
      { label: "lymphocyte", count: 2, percent: 100 },
      { label: "monocyte", count: 0, percent: 0 },
    ]);
    // A label a reviewer gave, outside every model's classes, is signed while it has cells.
    expect(signedRows(rowsOf([cell("a", "car_t", 0.9)]), ["lymphocyte"]).map((r) => r.label)).toEqual(["car_t", "lymphocyte"]);
  });

  it("list a class the API lists even if the page has no row for it", () => {
    expect(signedRows([{ label: "lymphocyte", count: 2, percent: 100 }], ["basophil", "erythroblast"])).toEqual([
      { label: "lymphocyte", count: 2, percent: 100 },
      { label: "basophil", count: 0, percent: 0 },
      { label: "erythroblast", count: 0, percent: null },
    ]);
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

  it("b reclassifies to blast (Caps Lock or not), with a reason like any override", () => {
    const s = initialState([...LABELS.slice(0, 3), "blast", "artifact"], cells);
    const chose = { kind: "dispatch", action: { type: "choose", cellIds: ["b"], label: "blast" } };
    expect(keyIntent(s, "b")).toEqual(chose);
    expect(keyIntent(s, "B")).toEqual(chose);
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

  it("h shows and hides the cell's history (Caps Lock too), leaving the cell and its label alone", () => {
    expect(s0.history).toBe(false);
    const press = (s: ReviewState, key: string) => {
      const intent = keyIntent(s, key);
      return intent.kind === "dispatch" ? reduce(s, intent.action) : s;
    };
    const shown = press(s0, HISTORY_KEY);
    expect(shown).toEqual({ ...s0, history: true });
    expect(press(shown, HISTORY_KEY.toUpperCase()).history).toBe(false);
    // Not while the reason prompt is open: it owns the keyboard.
    expect(keyIntent({ ...s0, prompt: { cellIds: ["a"], label: "car_t" } }, HISTORY_KEY)).toEqual({ kind: "none" });
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

  it("a read-only case allows looking (arrows, G, H) but no decision", () => {
    const s = initialState(LABELS, cells);
    expect(viewingOnly(keyIntent(s, "ArrowRight"))).toBe(true);
    expect(viewingOnly(keyIntent(s, "g"))).toBe(true);
    expect(viewingOnly(keyIntent(s, HISTORY_KEY))).toBe(true);
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
    expect(bulkConfirmable(groupCells(LABELS, mixed)[0]!, anyLabel(0.8))).toEqual(["p"]);
  });

  it("flags AI calls under 80% and leaves them out of bulk confirm", () => {
    const group = [cell("sure", "car_t", 0.95), cell("edge", "car_t", 0.8), cell("unsure", "car_t", 0.79), cell("abst", "car_t", 0.3, { ai: { label: "car_t", confidence: 0.3, abstained: true, modelVersion: "m" } })];
    expect(group.map((c) => isLowConfidence(c, 0.8))).toEqual([false, false, true, false]);
    expect(isLowConfidence(cell("none", "car_t", 0, { ai: null }), 0.8)).toBe(false);
    expect(bulkConfirmable(groupCells(LABELS, group)[0]!, anyLabel(0.8)).sort()).toEqual(["edge", "sure"]);
    // The threshold is the API's policy, not a constant of the page.
    expect(group.map((c) => isLowConfidence(c, 0.9))).toEqual([false, true, true, false]);
    expect(bulkConfirmable(groupCells(LABELS, group)[0]!, anyLabel(0.9))).toEqual(["sure"]);
    // A cell still saving from the last bulk confirm is not offered again.
    expect(bulkConfirmable(groupCells(LABELS, group)[0]!, anyLabel(0.8), new Set(["sure"]))).toEqual(["edge"]);
    expect(thresholdPercent(0.8)).toBe("80%");
    expect(thresholdPercent(0.855)).toBe("85.5%");
    // Abstained and unpredicted cells (shown as "unidentified") are not bulk-confirmable either.
    const unidentified = [cell("abst", "unidentified", 0.3, { ai: { label: "car_t", confidence: 0.3, abstained: true, modelVersion: "m" } }), cell("none", "unidentified", 0, { ai: null })];
    expect(bulkConfirmable({ label: "unidentified", cells: unidentified }, anyLabel(0.8))).toEqual([]);
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
  it("an amendment may retract, chosen, never by default; with no cell left it can only retract", () => {
    const RETRACTION = "Amended report: retracted, no valid result";
    const withCells = signingMeaning({ amendment: { relabelled: 0 }, overrides: 0, total: 5 }, null);
    expect(withCells.fitting.at(-1)).toBe(RETRACTION);
    expect(withCells.meaning).toBe("Amended report: reviewed and approved");
    expect(signingMeaning({ amendment: { relabelled: 0 }, overrides: 1, total: 5 }, RETRACTION).meaning).toBe(RETRACTION);
    expect(signingMeaning({ amendment: { relabelled: 0 }, overrides: 0, total: 0 }, null)).toEqual({ meaning: RETRACTION, fitting: [RETRACTION] });
    // A first report is never retracted, and with no cell it has nothing to sign.
    expect(signingMeaning({ amendment: null, overrides: 0, total: 3 }, RETRACTION).meaning).toBe("Reviewed and approved");
    expect(signingMeaning({ amendment: null, overrides: 0, total: 0 }, null)).toEqual({ meaning: "", fitting: [] });
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

describe("deciding what is already decided", () => {
  const mine = (label: string, reportVersion: number): HumanDecision => ({ action: "CONFIRM", label, reviewer: "Dr Me", reviewerLogin: "me", reason: null, at: "", reportVersion });

  /** What the page does with a key: a save lands at once (as the reviewer's decision of `round`), the cursor moves on. */
  function press(s: ReviewState, key: string, round: number): { state: ReviewState; saved: string[] } {
    const intent: KeyIntent = keyIntent(s, key);
    if (intent.kind === "dispatch") return { state: reduce(s, intent.action), saved: [] };
    if (intent.kind !== "save") return { state: s, saved: [] };
    const id = intent.request.cellIds[0]!;
    const next = nextCursor(s, id, new Set([id]));
    let after = reduce(s, { type: "saving", cellIds: [id] });
    if (next) after = reduce(after, { type: "select", cellId: next });
    const cellNow = s.cells.find((c) => c.id === id)!;
    after = reduce(after, { type: "saved", cellId: id, decision: mine(intent.request.label, round), reviewCount: cellNow.reviewCount + 1 });
    return { state: after, saved: [id] };
  }

  it("Enter on a cell the reviewer already confirmed this round saves nothing and moves on", () => {
    const decided = cells.map((c) => ({ ...c, decision: mine(c.currentLabel, 0), reviewCount: 1 }));
    const s = initialState(LABELS, decided, { me: "me", round: 0 });
    expect(keyIntent(s, "Enter")).toEqual({ kind: "dispatch", action: { type: "advance", from: "b" } });
    // The label key of the same label too (the mouse's Confirm button as well).
    expect(keyIntent(s, labelKey("car_t")!)).toEqual({ kind: "dispatch", action: { type: "advance", from: "b" } });
    expect(chooseIntent(s, "car_t")).toEqual({ kind: "dispatch", action: { type: "advance", from: "b" } });
    // Another label is a new decision.
    expect(keyIntent(s, labelKey("lymphocyte")!).kind).toBe("dispatch");
    expect(keyIntent(s, labelKey("lymphocyte")!)).not.toEqual({ kind: "dispatch", action: { type: "advance", from: "b" } });
    // No unreviewed cell left: on to the next cell in gallery order; the last one stays.
    expect(reduce(s, { type: "advance", from: "b" }).cursor).toBe("a");
    expect(reduce(reduce(s, { type: "select", cellId: "d" }), { type: "advance", from: "d" }).cursor).toBe("d");
  });

  it("another reviewer's decision, or one of a signed version in an amendment, is decided again", () => {
    const byOther = cells.map((c) => ({ ...c, decision: { ...mine(c.currentLabel, 0), reviewer: "Dr Other", reviewerLogin: "other" }, reviewCount: 1 }));
    expect(keyIntent(initialState(LABELS, byOther, { me: "me", round: 0 }), "Enter").kind).toBe("save");
    const signed = cells.map((c) => ({ ...c, decision: mine(c.currentLabel, 0), reviewCount: 1 }));
    expect(keyIntent(initialState(LABELS, signed, { me: "me", round: 1 }), "Enter").kind).toBe("save");
    // Without knowing who is signed in, nothing counts as theirs.
    expect(keyIntent(initialState(LABELS, signed), "Enter").kind).toBe("save");
  });

  it("Enter walks through an amendment once, one decision per cell, then saves nothing more", () => {
    const signed = cells.map((c) => ({ ...c, decision: mine(c.currentLabel, 0), reviewCount: 1 }));
    let s = initialState(LABELS, signed, { me: "me", round: 1 });
    const saved: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = press(s, "Enter", 1);
      s = r.state;
      saved.push(...r.saved);
    }
    expect(saved).toEqual(orderedCells(s).map((c) => c.id));
    expect(s.cells.every((c) => c.reviewCount === 2)).toBe(true);
  });

  it("after the last unreviewed cell, Enter moves on instead of confirming the same cell again", () => {
    let s = initialState(LABELS, cells, { me: "me", round: 0 });
    const saved: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = press(s, "Enter", 0);
      s = r.state;
      saved.push(...r.saved);
    }
    expect(saved.sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(s.cells.every((c) => c.reviewCount === 1)).toBe(true);
  });

  it("a reclassified cell is followed into its new group", () => {
    const c = cells[0]!;
    expect(viewKey(c)).not.toBe(viewKey({ ...c, currentLabel: "lymphocyte" }));
    expect(viewKey(c)).toBe(viewKey({ ...c }));
  });
});

describe("jumping to cells that need attention", () => {
  const decided = (c: ReviewCell) => ({ ...c, decision: { action: "CONFIRM" as const, label: c.currentLabel, reviewer: "h", reason: null, at: "" }, reviewCount: 1 });
  // Gallery order: b (car_t 0.55), a, c, e, d (artifact 0.7).
  const mixed = cells.map((c) => (c.id === "a" || c.id === "e" ? decided(c) : c));

  it("u goes to the next unreviewed cell, l to the next low-confidence one (unreviewed first), wrapping", () => {
    let s = initialState(LABELS, mixed, { minConfidence: 0.8 });
    expect(s.cursor).toBe("b");
    expect(keyIntent(s, JUMP_KEYS.nextUnreviewed)).toEqual({ kind: "dispatch", action: { type: "select", cellId: "c" } });
    s = reduce(s, { type: "select", cellId: "d" });
    expect(keyIntent(s, "U")).toEqual({ kind: "dispatch", action: { type: "select", cellId: "b" } });
    // Low confidence under 0.8: b (0.55) and d (0.7).
    expect(keyIntent(s, JUMP_KEYS.nextLowConfidence)).toEqual({ kind: "dispatch", action: { type: "select", cellId: "b" } });
    s = reduce(s, { type: "select", cellId: "b" });
    expect(keyIntent(s, JUMP_KEYS.nextLowConfidence)).toEqual({ kind: "dispatch", action: { type: "select", cellId: "d" } });
    // Jumping only looks: a signed case allows it.
    expect(viewingOnly(keyIntent(s, JUMP_KEYS.nextLowConfidence))).toBe(true);
    // Nothing left to jump to: the key does nothing.
    const done = initialState(LABELS, cells.map(decided), { minConfidence: 0.5 });
    expect(keyIntent(done, JUMP_KEYS.nextUnreviewed)).toEqual({ kind: "none" });
    expect(keyIntent(done, JUMP_KEYS.nextLowConfidence)).toEqual({ kind: "none" });
  });

  it("the jump keys and the history key clash with no label key, nor with each other", () => {
    const taken = [...LABELS, "unidentified", "monocyte", "eosinophil", "basophil", "ig", "blast", "erythroblast", "platelet"].map(labelKey);
    for (const k of [...Object.values(JUMP_KEYS), HISTORY_KEY]) expect(taken).not.toContain(k);
    expect(Object.values(JUMP_KEYS)).not.toContain("g");
    expect([...Object.values(JUMP_KEYS), "g"]).not.toContain(HISTORY_KEY);
  });
});

describe("gallery group heading", () => {
  it("says how many cells are left and how many of them are low-confidence, apart from what bulk confirm takes", () => {
    const group = groupCells(LABELS, [
      cell("sure", "car_t", 0.95),
      cell("sure2", "car_t", 0.9),
      cell("unsure", "car_t", 0.6),
      cell("done", "car_t", 0.5, { decision: { action: "CONFIRM", label: "car_t", reviewer: "h", reason: null, at: "" } }),
    ])[0]!;
    const s = groupSummary(group, anyLabel(0.8));
    expect(s).toEqual({ total: 4, unreviewed: 3, lowConfidence: 1, confirmable: ["sure2", "sure"], excluded: 0 });
    expect(groupCountText(s)).toBe("4; 3 unreviewed, 1 of them low-confidence");
    expect(groupCountText({ total: 4, unreviewed: 2, lowConfidence: 0 })).toBe("4; 2 unreviewed");
    expect(groupCountText({ total: 4, unreviewed: 0, lowConfidence: 0 })).toBe("4; all reviewed");
  });

  it("bulk confirm leaves out the calls of a model that is no longer the champion", () => {
    const withdrawn = (id: string) => cell(id, "car_t", 0.95, { ai: { label: "car_t", confidence: 0.95, abstained: false, modelVersion: "rcmnet 1", fromChampion: false, withdrawn: true } });
    const group = groupCells(LABELS, [cell("now", "car_t", 0.95), withdrawn("old")])[0]!;
    expect(bulkConfirmable(group, anyLabel(0.8))).toEqual(["now"]);
    expect(groupSummary(group, anyLabel(0.8))).toMatchObject({ unreviewed: 2, confirmable: ["now"] });
  });
});

describe("models behind the suggestions", () => {
  it("names each model with its cells, whether it is the champion now and whether a rollback withdrew it", () => {
    const old = { label: "car_t", confidence: 0.9, abstained: false, modelVersion: "rcmnet 1.0", fromChampion: false, withdrawn: true };
    const succeeded = { label: "car_t", confidence: 0.9, abstained: false, modelVersion: "rcmnet 1.1", fromChampion: false, withdrawn: false };
    const list = [cell("a", "car_t", 0.9), cell("b", "car_t", 0.9), cell("c", "car_t", 0.9, { ai: old }), cell("d", "unidentified", 0, { ai: null }), cell("e", "car_t", 0.9, { ai: succeeded })];
    expect(suggestionModels(list)).toEqual([
      { name: "m@1", champion: true, withdrawn: false, cells: 2 },
      { name: "rcmnet 1.0", champion: false, withdrawn: true, cells: 1 },
      { name: "rcmnet 1.1", champion: false, withdrawn: false, cells: 1 },
    ]);
    // A model merely succeeded by a promotion stays confirmable in bulk; a withdrawn one does not.
    const group = { label: "car_t", cells: [cell("s", "car_t", 0.95, { ai: { ...succeeded, confidence: 0.95 } }), cell("w", "car_t", 0.95, { ai: { ...old, confidence: 0.95 } })] };
    expect(bulkConfirmable(group, anyLabel(0.8))).toEqual(["s"]);
    expect(suggestionModels([])).toEqual([]);
  });
});

describe("cells changed while a bulk confirmation was asked", () => {
  it("counts those gone, relabelled or decided since", () => {
    const now = cells.map((c) => (c.id === "b" ? { ...c, currentLabel: "lymphocyte" } : c.id === "c" ? { ...c, reviewCount: c.reviewCount + 1 } : c));
    expect(changedSince(cells, cells.map((c) => ({ ...c })))).toBe(0);
    expect(changedSince(cells, now)).toBe(2);
    expect(changedSince(cells, now.filter((c) => c.id !== "a"))).toBe(3);
  });
});

describe("a decision that failed to save", () => {
  const request = { cellIds: ["b"], label: "lymphocyte", reason: "round nucleus, no granules" };
  function failed(): ReviewState {
    let s = initialState(LABELS, cells);
    s = reduce(s, { type: "saving", cellIds: ["b"] });
    return reduce(s, { type: "failed", cellIds: ["b"], message: "Another reviewer changed this cell first", request });
  }

  it("keeps the label and the typed reason for Retry, past a dismissed message and a reload", () => {
    let s = failed();
    expect(s.failedRequest).toMatchObject(request);
    s = reduce(s, { type: "dismissError" });
    expect(s.failedRequest).toMatchObject(request);
    // Reloaded (a copy of the cells, as the server sends them), the cell undecided since.
    s = reduce(s, { type: "replaceCells", cells: cells.map((c) => ({ ...c })) });
    expect(s.failedRequest).toMatchObject(request);
    expect(failedDecision(s)).toMatchObject({ cellId: "b", retry: true });
    // Still unsaved: sign-off and leaving the page keep waiting for it.
    expect([...s.unsaved]).toEqual(["b"]);
    expect(s.error).toBeNull();
    // Retried and saved: gone.
    const saved = reduce(reduce(s, { type: "saving", cellIds: ["b"] }), {
      type: "saved",
      cellId: "b",
      reviewCount: 2,
      decision: { action: "RECLASSIFY", label: "lymphocyte", reviewer: "h", reason: request.reason, at: "" },
    });
    expect(saved.failedRequest).toBeNull();
    expect(saved.unsaved.size).toBe(0);
  });

  it("remembers the review count and label the decision was based on", () => {
    expect(failed().failedRequest!.basedOn).toEqual({ reviewCount: 0, label: "car_t" });
    // The basis of the first attempt stays with a retry that fails again.
    const basedOn = { reviewCount: 3, label: "neutrophil" };
    const again = reduce(failed(), { type: "failed", cellIds: ["b"], message: "x", request: { ...request, basedOn } });
    expect(again.failedRequest!.basedOn).toEqual(basedOn);
  });

  it("is not retried after a reload shows another reviewer decided the cell meanwhile: decide again or discard", () => {
    // A CONFLICT: a colleague reclassified b while this reviewer's decision was on its way.
    const colleague: HumanDecision = { action: "RECLASSIFY", label: "neutrophil", reviewer: "Dr Other", reviewerLogin: "other", reason: "segmented", at: "" };
    const fresh = cells.map((c) => (c.id === "b" ? { ...c, reviewCount: 1, decision: colleague, currentLabel: "neutrophil", storedLabel: "neutrophil" } : c));
    const s = reduce(failed(), { type: "replaceCells", cells: fresh });
    expect(failedDecision(s)).toMatchObject({ cellId: "b", retry: false, now: "neutrophil", why: "decided" });
    // Still held up: sign-off waits until the cell is decided again or the decision discarded.
    expect([...s.unsaved]).toEqual(["b"]);
    expect(failedDecision(reduce(s, { type: "discardFailed" }))).toBeNull();
    // Whatever sends it anyway carries the count it was based on: the API refuses it (CONFLICT)
    // instead of recording it over the colleague's decision.
    expect(cellToSend(fresh.find((c) => c.id === "b")!, s.failedRequest!).reviewCount).toBe(0);
  });

  it("is not retried after a reload shows the AI's label changed, the cell still undecided (a new champion predicted it again)", () => {
    const fresh = cells.map((c) => (c.id === "b" ? { ...c, currentLabel: "lymphocyte", storedLabel: "lymphocyte" } : c));
    const s = reduce(failed(), { type: "replaceCells", cells: fresh });
    expect(failedDecision(s)).toMatchObject({ cellId: "b", retry: false, now: "lymphocyte", why: "relabelled" });
    expect([...s.unsaved]).toEqual(["b"]);
  });

  it("of the AI's label is not retried as a reason-less confirmation over a colleague's override", () => {
    let s = initialState(LABELS, cells);
    s = reduce(s, { type: "saving", cellIds: ["c"] });
    s = reduce(s, { type: "failed", cellIds: ["c"], message: "Network error", request: { cellIds: ["c"], label: "lymphocyte", reason: null } });
    const override: HumanDecision = { action: "RECLASSIFY", label: "car_t", reviewer: "Dr Other", reviewerLogin: "other", reason: "CAR-T morphology", at: "" };
    s = reduce(s, { type: "replaceCells", cells: cells.map((c) => (c.id === "c" ? { ...c, reviewCount: 1, decision: override, currentLabel: "car_t", storedLabel: "car_t" } : c)) });
    expect(failedDecision(s)).toMatchObject({ retry: false, now: "car_t" });
  });

  it("is dropped when discarded, or when its cell is gone after a reload; a bulk failure keeps none", () => {
    const discarded = reduce(failed(), { type: "discardFailed" });
    expect(discarded.failedRequest).toBeNull();
    expect(discarded.unsaved.size).toBe(0);
    expect(reduce(failed(), { type: "replaceCells", cells: cells.filter((c) => c.id !== "b") }).failedRequest).toBeNull();
    let s = reduce(initialState(LABELS, cells), { type: "saving", cellIds: ["a", "b"] });
    s = reduce(s, { type: "failed", cellIds: ["a", "b"], message: "x" });
    expect(s.failedRequest).toBeNull();
  });
});
