// Test metrics computed here from predictions, the same way for every model, so a candidate
// and the champion are compared on equal terms on the same locked TEST part (whatever the
// model package reports about itself).
import { UNIDENTIFIED } from "./runtime.ts";

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvaluationMetrics {
  count: number;
  accuracy: number;
  /** Mean F1 over the true labels present (abstentions count as misses). */
  macroF1: number;
  abstained: number;
  perClass: Record<string, ClassMetrics>;
  /**
   * Rows: true label; columns: predicted label. The first labels.length columns are the same
   * labels as the rows; then labels only the model predicted; the last is "unidentified".
   */
  confusion: { labels: string[]; predictedLabels: string[]; matrix: number[][] };
  /** TEST patients the model trained on (testLeakage.ts); set by evaluateOnSnapshot. */
  leakage?: { patients: number; cells: number };
}

/** What the cache of evaluations keeps: no leakage, which is recomputed on every read. */
export function withoutLeakage({ leakage: _recomputed, ...metrics }: EvaluationMetrics): Omit<EvaluationMetrics, "leakage"> {
  return metrics;
}

export function evaluatePredictions(
  truth: string[],
  predicted: { label: string; abstained: boolean }[],
): EvaluationMetrics {
  if (truth.length !== predicted.length) throw new Error("evaluatePredictions: length mismatch");
  const labels = [...new Set(truth)].sort();
  // Columns: the true labels in the same order as the rows (so the leading square block is the
  // usual confusion matrix), then labels only the model used, then "unidentified".
  const extra = [...new Set(predicted.filter((p) => !p.abstained).map((p) => p.label))]
    .filter((l) => !labels.includes(l))
    .sort();
  const predictedLabels = [...labels, ...extra, UNIDENTIFIED];
  const matrix = labels.map(() => predictedLabels.map(() => 0));
  let correct = 0;
  let abstained = 0;
  truth.forEach((t, i) => {
    const p = predicted[i]!;
    const column = p.abstained ? UNIDENTIFIED : p.label;
    if (p.abstained) abstained++;
    else if (p.label === t) correct++;
    matrix[labels.indexOf(t)]![predictedLabels.indexOf(column)]! += 1;
  });
  const perClass: Record<string, ClassMetrics> = {};
  for (const [r, label] of labels.entries()) {
    const c = predictedLabels.indexOf(label);
    const tp = matrix[r]![c]!;
    const support = matrix[r]!.reduce((a, b) => a + b, 0);
    const predictedAs = matrix.reduce((sum, row) => sum + row[c]!, 0);
    const precision = predictedAs === 0 ? 0 : tp / predictedAs;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass[label] = { precision, recall, f1, support };
  }
  const f1s = Object.values(perClass).map((m) => m.f1);
  return {
    count: truth.length,
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
    macroF1: f1s.length === 0 ? 0 : f1s.reduce((a, b) => a + b, 0) / f1s.length,
    abstained,
    perClass,
    confusion: { labels, predictedLabels, matrix },
  };
}
