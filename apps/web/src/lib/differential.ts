// The differential as a hematology lab reports it: the very code the API signs with
// (apps/api/src/modules/cases/whiteCellDifferential.ts, pure and import-free), so that the live
// count and the sign-off dialog show what the signature will record.
export {
  type AbsoluteCounts,
  absoluteCounts,
  CART_LABEL,
  type CountSource,
  isPeripheralBlood,
  isUnidentified,
  MIN_WHITE_CELLS,
  NOT_WHITE_CELLS,
  SPECIMEN_SUGGESTIONS,
  type WhiteCellDifferential,
  whiteCellDifferential,
} from "@rcmnet/api/differential";
import { isUnidentified } from "@rcmnet/api/differential";

/**
 * Share of all cells left unidentified from which the review page and the report warn: those
 * cells are out of the count, and if they are not spread like the counted ones (damaged CAR-T
 * cells, say) every share is biased. Null under it.
 */
export const LEFT_OUT_WARN_SHARE = 0.1;

export function leftOutWarning(unidentified: number, total: number): { count: number; total: number; percent: number } | null {
  if (total === 0 || unidentified / total < LEFT_OUT_WARN_SHARE) return null;
  return { count: unidentified, total, percent: Math.round((1000 * unidentified) / total) / 10 };
}

/** The cells left unidentified among a differential's excluded classes (however a model spells it). */
export function unidentifiedCount(excluded: readonly { label: string; count: number }[]): number {
  return excluded.filter((e) => isUnidentified(e.label)).reduce((s, e) => s + e.count, 0);
}
