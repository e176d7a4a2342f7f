// Cells withdrawn by a retraction (docs/decisions.md D10): after a retraction, an amendment signs a
// result only once every cell that retraction signed, still counted, is decided again or its image
// voided (the API refuses otherwise). The page says so before the hematologist meets the refusal.
import { describe, expect, it } from "vitest";
import { reviewCell } from "./testing";
import { toReviewCell, type ApiCell } from "./mapping";
import {
  groupCountText,
  initialState,
  isWithdrawn,
  JUMP_KEYS,
  jumpTarget,
  keyIntent,
  reduce,
  signOffBlocked,
  withdrawnCells,
  withdrawnCountText,
  withdrawnDecisionText,
  type ReviewCell,
} from "./model";

const LABELS = ["car_t", "lymphocyte", "neutrophil", "artifact"];
const signedDecision = { action: "CONFIRM" as const, label: "lymphocyte", reviewer: "h", reason: null, at: "", reportVersion: 0 };
/** Decided in version 1, that decision withdrawn by the retraction signed as version 2 (the case amended after it). */
const withdrawn = (id: string, confidence = 0.9): ReviewCell =>
  reviewCell(id, "lymphocyte", confidence, { decision: signedDecision, reviewCount: 1, withdrawnInVersion: 2 });
const decided = (id: string): ReviewCell => reviewCell(id, "lymphocyte", 0.95, { decision: { ...signedDecision, reportVersion: 2 }, reviewCount: 1, withdrawnInVersion: null });

/** The sign-off dialog's state in an amendment with every cell decided and saved. */
const ready = { total: 5, amendment: { of: 2 }, saving: false, unreviewed: 0, unsavedDecisions: 0, withdrawn: null, retracting: false };

describe("cells withdrawn by a retraction", () => {
  it("are read from the API's Cell.withdrawnInVersion (absent or null: not withdrawn)", () => {
    const api: ApiCell = {
      id: "c1", slideId: "s1", x: 0, y: 0, width: 10, height: 10, cropSha256: "f".repeat(64), currentLabel: "lymphocyte", reviewCount: 1, humanDecided: true,
      prediction: null,
      reviews: [{ seq: 1, action: "CONFIRM", label: "lymphocyte", previousLabel: null, reason: null, reportVersion: 0, createdAt: "", reviewer: { login: "h", displayName: "H" } }],
      withdrawnInVersion: 2,
    };
    expect(toReviewCell(api).withdrawnInVersion).toBe(2);
    expect(isWithdrawn(toReviewCell(api))).toBe(true);
    expect(isWithdrawn(toReviewCell({ ...api, withdrawnInVersion: null }))).toBe(false);
    const { withdrawnInVersion: _, ...older } = api;
    expect(isWithdrawn(toReviewCell(older))).toBe(false);
  });

  it("are counted, with the retraction's version, for the progress and beside the sign-off button", () => {
    const cells = [withdrawn("a"), withdrawn("b"), decided("c"), reviewCell("d", "car_t", 0.9)];
    expect(withdrawnCells(cells)).toEqual({ cells: 2, version: 2 });
    expect(withdrawnCells([decided("c")])).toBeNull();
    expect(withdrawnCountText({ cells: 2, version: 2 })).toBe("2 cells withdrawn by the retraction (version 2) still counted");
    expect(withdrawnCountText({ cells: 1, version: 4 })).toBe("1 cell withdrawn by the retraction (version 4) still counted");
    expect(groupCountText({ total: 4, unreviewed: 0, lowConfidence: 0, withdrawn: 2 })).toBe("4; all reviewed, 2 withdrawn by the retraction");
    expect(groupCountText({ total: 4, unreviewed: 1, lowConfidence: 0, withdrawn: 0 })).toBe("4; 1 unreviewed");
  });

  it("the current-cell panel says the old decision is withdrawn, not that it stands", () => {
    expect(withdrawnDecisionText(2)).toBe("withdrawn by the retraction signed as version 2: decide it again if that retraction was wrong, or void its image");
    expect(withdrawnDecisionText(2)).not.toMatch(/stands/);
  });

  it("block signing a result, as the API does, but not a retraction; undecided and unsaved cells are said first", () => {
    expect(signOffBlocked(ready)).toBeNull();
    const one = signOffBlocked({ ...ready, withdrawn: { cells: 1, version: 2 } });
    expect(one).toBe(
      "Signing a result is blocked: 1 cell withdrawn by the retraction signed as version 2 is still counted, with no decision since. Decide it again if that retraction was wrong, or void its image.",
    );
    expect(signOffBlocked({ ...ready, withdrawn: { cells: 3, version: 2 } })).toMatch(/^Signing a result is blocked: 3 cells withdrawn by the retraction signed as version 2 are still counted.* Decide each again .* or void their images\.$/);
    // A retraction signs no result: the withdrawn cells do not hold it up.
    expect(signOffBlocked({ ...ready, withdrawn: { cells: 3, version: 2 }, retracting: true })).toBeNull();
    // The other rules, as before, come first.
    expect(signOffBlocked({ ...ready, withdrawn: { cells: 3, version: 2 }, unreviewed: 2 })).toBe("2 of 5 cells are not reviewed yet. Every cell needs a human decision before sign-off.");
    expect(signOffBlocked({ ...ready, withdrawn: { cells: 3, version: 2 }, saving: true })).toBe("Decisions are still being saved.");
    expect(signOffBlocked({ ...ready, unsavedDecisions: 1 })).toMatch(/^1 decision was not saved/);
    expect(signOffBlocked({ ...ready, total: 0, amendment: null })).toMatch(/^There are no cells to sign off/);
  });

  it("a cell decided again is no longer withdrawn: the count and the block go once each is", () => {
    let s = initialState(LABELS, [withdrawn("a"), withdrawn("b")], { round: 2 });
    s = reduce(s, { type: "saved", cellId: "a", decision: { ...signedDecision, reportVersion: 2 }, reviewCount: 2 });
    expect(s.cells.find((c) => c.id === "a")!.withdrawnInVersion).toBeNull();
    expect(withdrawnCells(s.cells)).toEqual({ cells: 1, version: 2 });
    s = reduce(s, { type: "saved", cellId: "b", decision: { ...signedDecision, reportVersion: 2 }, reviewCount: 2 });
    expect(withdrawnCells(s.cells)).toBeNull();
    expect(signOffBlocked({ ...ready, withdrawn: withdrawnCells(s.cells) })).toBeNull();
  });

  it("'next unreviewed' (U and its button) goes to them too, after the undecided cells", () => {
    // Gallery order (least certain first within a class): car_t u; lymphocyte w1 (0.6), d (0.95), w2 (0.97).
    const cells = [reviewCell("u", "car_t", 0.9), withdrawn("w1", 0.6), decided("d"), withdrawn("w2", 0.97)];
    let s = initialState(LABELS, cells, { round: 2 });
    expect(s.cursor).toBe("u");
    expect(jumpTarget(s, "nextUnreviewed")).toBe("w1");
    s = reduce(s, { type: "select", cellId: "w1" });
    // The undecided cell first, wherever it is.
    expect(jumpTarget(s, "nextUnreviewed")).toBe("u");
    expect(keyIntent(s, JUMP_KEYS.nextUnreviewed)).toEqual({ kind: "dispatch", action: { type: "select", cellId: "u" } });
    s = reduce(s, { type: "saved", cellId: "u", decision: { ...signedDecision, label: "car_t", reportVersion: 2 }, reviewCount: 1 });
    expect(jumpTarget(s, "nextUnreviewed")).toBe("w2");
    expect(keyIntent(s, JUMP_KEYS.nextUnreviewed)).toEqual({ kind: "dispatch", action: { type: "select", cellId: "w2" } });
  });
});
