// The differential as a hematology lab reports it: the very code the API signs with
// (apps/api/src/modules/cases/whiteCellDifferential.ts, pure and import-free), so that the live
// count and the sign-off dialog show what the signature will record.
export {
  type AbsoluteCounts,
  absoluteCounts,
  CART_LABEL,
  type CountSource,
  isPeripheralBlood,
  MIN_WHITE_CELLS,
  NOT_WHITE_CELLS,
  SPECIMEN_SUGGESTIONS,
  type WhiteCellDifferential,
  whiteCellDifferential,
} from "@rcmnet/api/differential";

