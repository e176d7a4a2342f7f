// Signed-out cases a snapshot left out because they have no patient study id
// (DatasetSnapshot.casesLeftOutWithoutPatient, cellsLeftOutWithoutPatient): such a case may be any
// patient's, so no part could keep it apart from that patient's other cases. Their labels are not
// lost: entering the study id on the case puts them in the next snapshot. Null: a snapshot taken
// before the rule (its casesWithoutPatient counts such cases put in TRAIN).

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "3 cases (41 cells) left out: no patient study id — …", or null when none was (or not recorded). */
export function leftOutWithoutPatientText(cases: number | null, cells: number | null): string | null {
  if (!cases) return null;
  const what = cells === null ? plural(cases, "case", "cases") : `${plural(cases, "case", "cases")} (${plural(cells, "cell", "cells")})`;
  return `${what} left out: no patient study id — enter the study id on ${cases === 1 ? "the case" : "each case"} and take a new snapshot to use ${cases === 1 ? "it" : "them"}`;
}
