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
