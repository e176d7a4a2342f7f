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

import { isUnidentified, NOT_WHITE_CELLS } from "@rcmnet/api/differential";

import { share } from "./format";

/**
 * A differential row's share as printed: "excl." for a class outside the white-cell denominator,
 * "—" where no share was measured (no white cells counted: null, never 0, docs/decisions.md D6),
 * else the share ("<0.1%" for counted cells that round to 0.0%). A share signed as 0 (reports
 * signed before no-share-without-white-cells) prints as signed. `excluded` defaults to the label's
 * class; the signed report passes what it read from `excluded`.
 */
export function rowPercentText(
  row: { label: string; count: number; percent: number | null },
  excluded = NOT_WHITE_CELLS.includes(row.label.toLowerCase()),
): string {
  if (row.percent !== null) return share(row.percent, row.count);
  return excluded ? "excl." : "—";
}

/**
 * Share of the white cells left unidentified from which the review page and the report warn:
 * those cells are out of the count, and if they are not spread like the counted ones (damaged
 * CAR-T cells, say) every share is biased.
 */
export const LEFT_OUT_WARN_SHARE = 0.1;

/**
 * The warning, or null under its threshold. The share is of the cells that could have been white
 * cells (counted + unidentified): artifacts, platelets and nucleated red cells are not candidates,
 * and counting them in would let a smear full of debris hide the bias it is most likely to have.
 */
export function leftOutWarning(
  excluded: readonly { label: string; count: number }[],
  counted: number,
): { count: number; of: number; percent: number } | null {
  const count = unidentifiedCount(excluded);
  const of = counted + count;
  if (of === 0 || count / of < LEFT_OUT_WARN_SHARE) return null;
  return { count, of, percent: Math.round((1000 * count) / of) / 10 };
}

/** The cells left unidentified among a differential's excluded classes (however a model spells it). */
export function unidentifiedCount(excluded: readonly { label: string; count: number }[]): number {
  return excluded.filter((e) => isUnidentified(e.label)).reduce((s, e) => s + e.count, 0);
}
