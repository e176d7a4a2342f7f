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
  /**
   * Mean F1 over the true labels present and the labels only the model predicted (F1 0 there),
   * as the model card's validation figure is (@rcmnet/model metrics.ts, scikit-learn's way);
   * abstentions count as misses.
   */
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
  const confusion = { labels, predictedLabels, matrix };
  return {
    count: truth.length,
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
    macroF1: macroF1Of(confusion),
    abstained,
    perClass,
    confusion,
  };
}

/**
 * Macro-F1 from a confusion matrix of this shape: F1 of each true label, and 0 for each label
 * only the model predicted (a class it calls that the data lacks is an error, not a class to
 * leave out of the average, which would favour the model with more output classes). Also how a
 * stored evaluation is read (evaluateOnSnapshot.ts), whatever macro-F1 it was stored with.
 */
export function macroF1Of({ labels, predictedLabels, matrix }: EvaluationMetrics["confusion"]): number {
  const onlyPredicted = predictedLabels.filter((l) => l !== UNIDENTIFIED && !labels.includes(l)).length;
  const f1s = labels.map((label, r) => {
    const c = predictedLabels.indexOf(label);
    const tp = matrix[r]![c]!;
    const support = matrix[r]!.reduce((a, b) => a + b, 0);
    const predictedAs = matrix.reduce((sum, row) => sum + row[c]!, 0);
    return tp === 0 ? 0 : (2 * tp) / (support + predictedAs);
  });
  const n = f1s.length + onlyPredicted;
  return n === 0 ? 0 : f1s.reduce((a, b) => a + b, 0) / n;
}

/** A stored evaluation whose confusion matrix is whole (older or hand-made ones may lack it). */
function hasConfusion(e: unknown): e is EvaluationMetrics {
  const c = (e as { confusion?: Partial<EvaluationMetrics["confusion"]> } | null)?.confusion;
  return Array.isArray(c?.labels) && Array.isArray(c?.predictedLabels) && Array.isArray(c?.matrix) && c.matrix.length === c.labels.length;
}

/** An evaluation as served: macro-F1 read from its confusion matrix (one definition for all). */
export function currentEvaluation<T>(e: T): T {
  return hasConfusion(e) ? { ...e, macroF1: macroF1Of(e.confusion) } : e;
}

/**
 * A model's or a run's stored metrics as served: every test evaluation in them (`test`,
 * `champion`, `evaluations[snapshot]`) with today's macro-F1, so that figures stored before it
 * counted classes only the model predicted sit beside newer ones on the same footing.
 */
export function withCurrentMacroF1(metrics: unknown): unknown {
  if (!metrics || typeof metrics !== "object" || Array.isArray(metrics)) return metrics;
  const m = { ...(metrics as Record<string, unknown>) };
  for (const key of ["test", "champion"]) if (m[key]) m[key] = currentEvaluation(m[key]);
  const evaluations = m.evaluations;
  if (evaluations && typeof evaluations === "object" && !Array.isArray(evaluations)) {
    m.evaluations = Object.fromEntries(Object.entries(evaluations).map(([k, e]) => [k, currentEvaluation(e)]));
  }
  return m;
}
