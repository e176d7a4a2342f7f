// What the review page sends for one decision on one cell: a confirmation of the label it showed,
// or a reclassification away from it. Pure, unit-tested.
import type { ReviewCell } from "./model";

/**
 * The label the API held for the cell when the page loaded it (null: none; the page shows such a
 * cell as "unidentified"). A decision names it as its expectedLabel: should a new champion have
 * predicted the undecided cell again since, the API refuses rather than record the decision, and an
 * override's reason, against a label the reviewer never saw.
 */
export function labelAsLoaded(cell: Pick<ReviewCell, "currentLabel" | "storedLabel">): string | null {
  return cell.storedLabel === undefined ? cell.currentLabel : cell.storedLabel;
}

export type DecisionInput =
  | { kind: "confirm"; cells: [{ cellId: string; expectedReviewCount: number; expectedLabel: string; reason?: string }] }
  | { kind: "reclassify"; input: { cellId: string; expectedReviewCount: number; expectedLabel: string | null; label: string; reason: string | null } };

/**
 * confirmCells' input when `label` is the one the API holds, else reclassifyCell's: a cell shown as
 * "unidentified" for want of any label (no AI call) is given it by a reclassification.
 */
export function decisionInput(cell: Pick<ReviewCell, "id" | "reviewCount" | "currentLabel" | "storedLabel">, label: string, reason: string | null): DecisionInput {
  const expectedLabel = labelAsLoaded(cell);
  if (label === expectedLabel) {
    // A reason goes with it where one was asked for (a cell left unidentified).
    return { kind: "confirm", cells: [{ cellId: cell.id, expectedReviewCount: cell.reviewCount, expectedLabel, ...(reason ? { reason } : {}) }] };
  }
  return { kind: "reclassify", input: { cellId: cell.id, expectedReviewCount: cell.reviewCount, expectedLabel, label, reason } };
}
