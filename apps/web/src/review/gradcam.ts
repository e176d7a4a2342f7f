// What a Grad-CAM heat map explains, said under it: the API computes it for the AI's call, by the
// model that made it (apps/api/src/modules/cases/cellGradcam.ts), so after a reclassification the
// border shows the reviewer's class while the map explains another.
import { labelName } from "@/lib/labels";
import type { ReviewCell } from "./model";

export function gradcamCaption(cell: Pick<ReviewCell, "ai" | "currentLabel">): string {
  const ai = cell.ai;
  if (!ai) return "Grad-CAM: no AI call to explain.";
  const call = ai.abstained ? `${labelName(ai.label)} (its best guess; it abstained)` : labelName(ai.label);
  const differs = ai.abstained || ai.label !== cell.currentLabel;
  return `Grad-CAM for the AI call: ${call}, by ${ai.modelVersion}.${differs ? ` It explains that call, not the label ${labelName(cell.currentLabel)} the cell now has.` : ""}`;
}
