// How cell classes are ordered and named on screen. The stored label stays the model's own
// ("car_t", "ig"): records, audit trail and CSV keep it; only what a reader sees is named.

import { BLAST, byClassOrder, CELL_CLASS_ORDER } from "@rcmnet/api/differential";

export { BLAST };

/**
 * The classes with a number key and a colour of their own, fixed whatever models are registered
 * so that they stay where muscle memory expects them: the API's class order (the differential's
 * rows and the review page agree) without blast, which came later and sits among them (after IG)
 * in the rows only: inserted here, it would have moved the keys and colours of erythroblast and
 * platelet. Nine classes, one per number key.
 */
export const CANONICAL_ORDER = CELL_CLASS_ORDER.filter((l) => l !== BLAST);

/** Blast's key: a letter clear of the number keys, - and the page's letters (g, h, u, l: model.ts). */
export const BLAST_KEY = "b";

const NAMES: Record<string, string> = {
  car_t: "CAR-T cell",
  ig: "Immature granulocyte",
  [BLAST]: "Blast / abnormal cell",
};

/**
 * The key that reclassifies to a label, fixed whatever models are registered: 1-9 for the
 * canonical classes in order, 0 for unidentified, - for artifact, b for blast. Labels outside the
 * canonical list have no key (their decision buttons remain). Muscle memory never has to relearn a key.
 */
export function labelKey(label: string): string | null {
  if (label === "unidentified") return "0";
  if (label === "artifact") return "-";
  if (label === BLAST) return BLAST_KEY;
  const i = (CANONICAL_ORDER as readonly string[]).indexOf(label);
  return i < 0 ? null : String(i + 1);
}

/** What a reader sees for a stored label: "car_t" → "CAR-T cell", "erythroblast" → "Erythroblast". */
export function labelName(label: string): string {
  const named = NAMES[label];
  if (named) return named;
  const words = label.replace(/[_-]+/g, " ").trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : label;
}

/** Known classes in the canonical order, then any other label alphabetically. */
export const byCanonicalOrder = byClassOrder;
