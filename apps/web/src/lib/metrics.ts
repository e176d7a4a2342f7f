// Reading ModelVersion.metrics / TrainingRun.metrics (JSON documented in the API schema).
export interface TestMetrics {
  accuracy: number | null;
  macroF1: number | null;
  /** Rows: true `labels`; columns: `predictedLabels` (the labels, then "unidentified" for abstentions). */
  confusion: { labels: string[]; predictedLabels: string[]; matrix: number[][] } | null;
  perClass: Record<string, { precision?: number; recall?: number; f1?: number; support?: number }>;
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);

export function readTestMetrics(raw: unknown): TestMetrics {
  const t = obj(raw);
  const conf = obj(t.confusion);
  const labels = Array.isArray(conf.labels) ? conf.labels.filter((l): l is string => typeof l === "string") : [];
  const matrix = Array.isArray(conf.matrix) ? conf.matrix.map((row) => (Array.isArray(row) ? row.map((v) => num(v) ?? 0) : [])) : [];
  // Older records have square matrices and no predictedLabels: their columns are the labels.
  const predicted = Array.isArray(conf.predictedLabels) ? conf.predictedLabels.filter((l): l is string => typeof l === "string") : labels;
  return {
    accuracy: num(t.accuracy),
    macroF1: num(t.macroF1),
    confusion:
      labels.length && matrix.length === labels.length && matrix.every((row) => row.length === predicted.length)
        ? { labels, predictedLabels: predicted, matrix }
        : null,
    perClass: obj(t.perClass) as TestMetrics["perClass"],
  };
}

export function modelMetrics(raw: unknown): { test: TestMetrics; champion: TestMetrics | null; history: unknown } {
  const m = obj(raw);
  return { test: readTestMetrics(m.test), champion: m.champion ? readTestMetrics(m.champion) : null, history: m.history };
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;
}

/** A difference of fractions in signed points: "+4.0", "−6.2", "0.0". */
export function points(v: number): string {
  return `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(100 * v).toFixed(1)}`;
}

/**
 * A p-value as it is read: three significant digits (two would print 0.0496 as "0.05", on the
 * wrong side of the line a reader draws), "< 0.001" below that, "= 1" at 1. `name` says which
 * test: "p = 0.0496", "McNemar mid-p < 0.001".
 */
export function pValueText(p: number, name = "p"): string {
  if (p < 0.001) return `${name} < 0.001`;
  return p >= 1 ? `${name} = 1` : `${name} = ${Number(p.toPrecision(3))}`;
}

/** Which McNemar test a frozen p came from: the mid-p since the switch, the exact test before. */
export type McNemarTest = "MID_P" | "EXACT";

/** "McNemar mid-p = 0.0347", or for proposals frozen before the switch, "exact McNemar test p = 0.0525". */
export function mcnemarText(p: number, test: McNemarTest): string {
  return test === "MID_P" ? pValueText(p, "McNemar mid-p") : `exact McNemar test ${pValueText(p)}`;
}

/** A promotion's evidence as far as these helpers read it (PromotionEvidence in the API schema). */
export interface PairingEvidence {
  accuracyDifference: { difference: number; lower: number; upper: number } | null;
  /** NO_CHAMPION: a first promotion, weighed on the candidate's own figures. */
  pairing: "PAIRED" | "NOT_RECORDED" | "DIFFERENT_ITEMS" | "INCONSISTENT" | "NO_TEST_CELLS" | "NO_CHAMPION";
  pairingNote: string | null;
  paired: {
    cells: number;
    bothRight: number;
    candidateOnlyRight: number;
    championOnlyRight: number;
    bothWrong: number;
    mcnemarP: number;
    mcnemarTest: McNemarTest;
    difference: number;
    lower: number;
    upper: number;
  } | null;
}

/**
 * The top-1 difference of a proposal, cell by cell where both evaluations kept each cell's call:
 * the cells only one model got right (b, c) are what tells the two apart, with McNemar's test on
 * them (the mid-p; proposals frozen before it say exact) and the paired interval. Otherwise the
 * interval from the counts, called unpaired, with the API's reason (evaluations on different
 * items, a damaged per-cell record or no TEST cell are a warning: pairingWarning).
 */
export function accuracyDifferenceText(e: PairingEvidence): string {
  const q = e.paired;
  if (q) {
    return (
      `Cell by cell on the same ${q.cells} TEST cells: only the candidate right on ${q.candidateOnlyRight} (b), only the champion on ${q.championOnlyRight} (c), both on ${q.bothRight}, neither on ${q.bothWrong}; ` +
      `${mcnemarText(q.mcnemarP, q.mcnemarTest)}. Top-1 difference ${points(q.difference)} points (paired 95% interval ${points(q.lower)} to ${points(q.upper)}).`
    );
  }
  const d = e.accuracyDifference;
  const difference = d ? `Top-1 difference ${points(d.difference)} points (unpaired 95% interval ${points(d.lower)} to ${points(d.upper)}).` : "";
  const why = (e.pairing === "NOT_RECORDED" || e.pairing === "NO_CHAMPION") && e.pairingNote ? `${e.pairingNote}.` : "";
  return [difference, why].filter(Boolean).join(" ");
}

/**
 * What the decider must not miss: the two evaluations were not made on the same TEST items, a
 * per-cell record contradicts its own evaluation (damaged or altered: its figures are in doubt),
 * or there was no TEST cell to compare on.
 */
export function pairingWarning(e: PairingEvidence): string | null {
  const fallback = {
    DIFFERENT_ITEMS: "The two evaluations were made on different TEST items",
    INCONSISTENT: "A per-cell record contradicts its own evaluation: damaged or altered, not paired",
    NO_TEST_CELLS: "The TEST part has no cell: nothing to compare",
  } as const;
  if (e.pairing === "PAIRED" || e.pairing === "NOT_RECORDED" || e.pairing === "NO_CHAMPION") return null;
  return `${e.pairingNote ?? fallback[e.pairing]}.`;
}

/** A regression as the API records it (PromotionRegression): a point estimate below the champion's. */
export interface RegressionEvidence {
  measure: string;
  label: string | null;
  candidate: number;
  champion: number;
  support: number | null;
  /** A class's cells compared cell by cell (null: macro-F1, not paired, or filed before). */
  paired?: { candidateOnlyRight: number; championOnlyRight: number; mcnemarP: number; mcnemarTest: McNemarTest } | null;
}

/**
 * Where the candidate is below the champion, by point estimate (the refusal rule: not a test), with
 * a class's paired counts and McNemar's p where the two were paired, and whether the proposer said
 * they accept it. `name` names a class on screen.
 */
export function regressionText(
  e: { regressions: RegressionEvidence[]; acceptedRegression: boolean },
  name: (label: string) => string = (l) => l,
): string | null {
  if (e.regressions.length === 0) return null;
  const items = e.regressions.map((r) => {
    if (r.measure === "macroF1") return `macro-F1 ${pct(r.candidate)} against ${pct(r.champion)}`;
    const q = r.paired;
    const paired = q
      ? `; cell by cell, only the candidate right on ${q.candidateOnlyRight} of them, only the champion on ${q.championOnlyRight}, ${mcnemarText(q.mcnemarP, q.mcnemarTest)}`
      : "";
    return `${name(r.label ?? "")} recall ${pct(r.candidate)} against ${pct(r.champion)} (${r.support} cells${paired})`;
  });
  return `Below the champion (point estimates, not a test): ${items.join("; ")}${e.acceptedRegression ? " (the proposer acknowledged it)" : ""}.`;
}

/** A recall with its Wilson 95% interval: "75.0% (30.0–95.5%)"; "—" without one. */
export function recallWithInterval(c: { recall: number | null; recallCi95?: number[] | null } | undefined): string {
  if (!c || c.recall === null) return "—";
  const ci = c.recallCi95;
  return ci && ci.length === 2 ? `${pct(c.recall)} (${(100 * ci[0]!).toFixed(1)}–${pct(ci[1])})` : pct(c.recall);
}

/**
 * Said of a model whose training data this platform does not know: it, or a model up its
 * fine-tuning chain, was registered from a directory, so none of its TEST patients can be shown
 * to be new to it. Not a refusal: the admin decides knowing it.
 */
export const TRAINED_OUTSIDE = "trained outside this platform (it, or a model it was fine-tuned from): whether it learned from these TEST patients cannot be checked";

/** A model's leakage as the API serves it (PromotionFigures): trainingDataKnown null where not recorded. */
export interface LeakageEvidence {
  leakedPatients: number | null;
  leakedCells: number | null;
  trainingDataKnown: boolean | null;
}

/**
 * Why a model's figures on a TEST part may be optimistic (null: no reason seen): the TEST patients
 * it learned from, as far as this platform knows what it learned from, and whether it knows all
 * of it. 0 patients of a model trained outside is not "learned from none"; a proposal filed
 * before that was recorded says it was not, rather than passing for checked.
 */
export function leakageText(f: LeakageEvidence): string | null {
  const seen = f.leakedPatients ? `learned from ${f.leakedPatients} of these TEST patients (${f.leakedCells} cells): optimistic` : null;
  const unknown =
    f.trainingDataKnown === false ? TRAINED_OUTSIDE : f.trainingDataKnown === null ? "whether it was trained outside this platform was not recorded" : null;
  return [seen, unknown].filter(Boolean).join("; ") || null;
}

/** A proposal's TEST part: its cells, and the minimum a promotion needed then (null: not recorded). */
export function testCellsText(e: { testCells: number | null; minTestCells: number | null }): string {
  if (e.testCells === null) return "";
  return e.minTestCells === null ? `${e.testCells} TEST cells` : `${e.testCells} TEST cells, at least ${e.minTestCells} required`;
}
