// How cell classes are ordered and named on screen. The stored label stays the model's own
// ("car_t", "ig"): records, audit trail and CSV keep it; only what a reader sees is named.

import { byClassOrder, CELL_CLASS_ORDER } from "@rcmnet/api/differential";

/**
 * The fixed order of the classes a hematologist meets (the API's, so the differential's rows and
 * the review page agree), so that number keys and colours stay where muscle memory expects them
 * when a model with more (or fewer) classes is registered: the target cell first, then the
 * classic differential order, then the PBC extras. Nine classes, one per number key.
 */
export const CANONICAL_ORDER = CELL_CLASS_ORDER;

const NAMES: Record<string, string> = {
  car_t: "CAR-T cell",
  ig: "Immature granulocyte",
};

/**
 * The key that reclassifies to a label, fixed whatever models are registered: 1-9 for the
 * canonical classes in order, 0 for unidentified, - for artifact. Labels outside the canonical
 * list have no key (their decision buttons remain). Muscle memory never has to relearn a key.
 */
export function labelKey(label: string): string | null {
  if (label === "unidentified") return "0";
  if (label === "artifact") return "-";
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
