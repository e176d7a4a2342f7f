// Test data for the review model's tests: a cell as the page holds it, with a confident AI call.
import type { ReviewCell } from "./model";

/** A cell labelled as the AI called it (`label` at `confidence`), undecided; `extra` overrides. */
export function reviewCell(id: string, label: string, confidence: number, extra: Partial<ReviewCell> = {}): ReviewCell {
  return {
    id,
    slideId: "s",
    cropSha256: id.padEnd(64, "0"),
    box: { x: 0, y: 0, width: 10, height: 10 },
    ai: { label, confidence, abstained: false, modelVersion: "m@1", fromChampion: true, withdrawn: false },
    decision: null,
    currentLabel: label,
    reviewCount: 0,
    ...extra,
  };
}
