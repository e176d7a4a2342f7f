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

/** A p-value as it is read: two significant digits, "p < 0.001" below that, "p = 1" at 1. */
export function pValueText(p: number): string {
  if (p < 0.001) return "p < 0.001";
  return p >= 1 ? "p = 1" : `p = ${Number(p.toPrecision(2))}`;
}

/** A promotion's evidence as far as these helpers read it (PromotionEvidence in the API schema). */
export interface PairingEvidence {
  accuracyDifference: { difference: number; lower: number; upper: number } | null;
  pairing: "PAIRED" | "NOT_RECORDED" | "DIFFERENT_ITEMS";
  pairingNote: string | null;
  paired: {
    cells: number;
    bothRight: number;
    candidateOnlyRight: number;
    championOnlyRight: number;
    bothWrong: number;
    mcnemarP: number;
    difference: number;
    lower: number;
    upper: number;
  } | null;
}

/**
 * The top-1 difference of a proposal, cell by cell where both evaluations kept each cell's call:
 * the cells only one model got right (b, c) are what tells the two apart, with McNemar's exact
 * test on them and the paired interval. Otherwise the interval from the counts, called unpaired,
 * with the API's reason (evaluations on different items are a warning: pairingWarning).
 */
export function accuracyDifferenceText(e: PairingEvidence): string {
  const q = e.paired;
  if (q) {
    return (
      `Cell by cell on the same ${q.cells} TEST cells: only the candidate right on ${q.candidateOnlyRight} (b), only the champion on ${q.championOnlyRight} (c), both on ${q.bothRight}, neither on ${q.bothWrong}; ` +
      `exact McNemar test ${pValueText(q.mcnemarP)}. Top-1 difference ${points(q.difference)} points (paired 95% interval ${points(q.lower)} to ${points(q.upper)}).`
    );
  }
  const d = e.accuracyDifference;
  const difference = d ? `Top-1 difference ${points(d.difference)} points (unpaired 95% interval ${points(d.lower)} to ${points(d.upper)}).` : "";
  const why = e.pairing === "NOT_RECORDED" && e.pairingNote ? `${e.pairingNote}.` : "";
  return [difference, why].filter(Boolean).join(" ");
}

/** What the decider must not miss: the two evaluations were not made on the same TEST items. */
export function pairingWarning(e: PairingEvidence): string | null {
  return e.pairing === "DIFFERENT_ITEMS" ? `${e.pairingNote ?? "The two evaluations were made on different TEST items"}.` : null;
}

/** A recall with its Wilson 95% interval: "75.0% (30.0–95.5%)"; "—" without one. */
export function recallWithInterval(c: { recall: number | null; recallCi95?: number[] | null } | undefined): string {
  if (!c || c.recall === null) return "—";
  const ci = c.recallCi95;
  return ci && ci.length === 2 ? `${pct(c.recall)} (${(100 * ci[0]!).toFixed(1)}–${pct(ci[1])})` : pct(c.recall);
}
