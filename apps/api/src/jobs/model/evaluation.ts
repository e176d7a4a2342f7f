// Test metrics computed here from predictions, the same way for every model, so a candidate
// and the champion are compared on equal terms on the same locked TEST part (whatever the
// model package reports about itself).
import { encodeItemCalls, type ItemCalls } from "./itemCalls.ts";
import type { TestLeakage } from "./testLeakage.ts";
import { UNIDENTIFIED } from "./runtime.ts";

export interface ClassMetrics {
  precision: number;
  /** Null where the class has no TEST cell (support 0): untested, not 0. */
  recall: number | null;
  f1: number;
  support: number;
}

export interface EvaluationMetrics {
  count: number;
  accuracy: number;
  /**
   * Mean F1 over the true labels present and the labels the model predicted that the TEST part
   * lacks (F1 0 there), as the model card's validation figure is (@rcmnet/model metrics.ts,
   * scikit-learn's way); abstentions count as misses. A class of the model with no TEST cell that
   * it never predicted is left out (untestedLabels): its F1 is not measured, and counting it as 0
   * would change what macro-F1 means from one snapshot to the next.
   */
  macroF1: number;
  abstained: number;
  /** Every class of the model and of the TEST part; support 0 for those without a TEST cell. */
  perClass: Record<string, ClassMetrics>;
  /** Classes with no TEST cell (support 0): listed, so that a class missing from TEST is seen, not dropped. */
  untestedLabels?: string[];
  /**
   * Rows: true label (a class without TEST cells has a row of zeros); columns: predicted label.
   * The first labels.length columns are the same labels as the rows; then labels only the model
   * predicted; the last is "unidentified".
   */
  confusion: { labels: string[]; predictedLabels: string[]; matrix: number[][] };
  /**
   * TEST patients the model trained on (testLeakage.ts); set by evaluateOnSnapshot and kept in a
   * training run's `test` and `champion` copies. Those stored before trainingDataKnown was
   * recorded lack it: not recorded, which is not "known".
   */
  leakage?: TestLeakage;
  /**
   * What it called each TEST item, for a comparison cell by cell (itemCalls.ts). Absent from
   * evaluations stored before 2026-11-27 and from those made without item ids.
   */
  items?: ItemCalls;
}

/** What the cache of evaluations keeps: no leakage, which is recomputed on every read. */
export function withoutLeakage({ leakage: _recomputed, ...metrics }: EvaluationMetrics): Omit<EvaluationMetrics, "leakage"> {
  return metrics;
}

/**
 * Test metrics from predictions. `modelLabels` (the model's classes) each get a row even without
 * a TEST cell: a class the snapshot's TEST part lacks would otherwise drop out of the figures
 * unseen (support 0, listed in untestedLabels). With `itemIds` (the TEST items' cell ids, in the
 * order of `truth`), each item's call is kept too (`items`).
 */
export function evaluatePredictions(
  truth: string[],
  predicted: { label: string; abstained: boolean }[],
  modelLabels: readonly string[] = [],
  itemIds?: readonly string[],
): EvaluationMetrics {
  if (truth.length !== predicted.length) throw new Error("evaluatePredictions: length mismatch");
  if (itemIds && itemIds.length !== truth.length) throw new Error("evaluatePredictions: item ids length mismatch");
  const labels = [...new Set([...truth, ...modelLabels])].sort();
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
  const confusion = { labels, predictedLabels, matrix };
  return {
    count: truth.length,
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
    macroF1: macroF1Of(confusion),
    abstained,
    perClass: perClassOf(confusion),
    untestedLabels: untestedOf(confusion),
    confusion,
    ...(itemIds ? { items: encodeItemCalls(itemIds, truth, predicted) } : {}),
  };
}

/** Precision, recall, F1 and support of each row label (recall null where support is 0). */
function perClassOf({ labels, predictedLabels, matrix }: EvaluationMetrics["confusion"]): Record<string, ClassMetrics> {
  const perClass: Record<string, ClassMetrics> = {};
  for (const [r, label] of labels.entries()) {
    const c = predictedLabels.indexOf(label);
    const tp = matrix[r]![c]!;
    const support = matrix[r]!.reduce((a, b) => a + b, 0);
    const predictedAs = matrix.reduce((sum, row) => sum + row[c]!, 0);
    const precision = predictedAs === 0 ? 0 : tp / predictedAs;
    const recall = support === 0 ? null : tp / support;
    const f1 = !recall || precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass[label] = { precision, recall, f1, support };
  }
  return perClass;
}

function untestedOf({ labels, matrix }: EvaluationMetrics["confusion"]): string[] {
  return labels.filter((_l, r) => matrix[r]!.every((n) => n === 0));
}

/**
 * Macro-F1 from a confusion matrix of this shape: F1 of each true label, and 0 for each label
 * the model predicted that the TEST part lacks (a class it calls that the data lacks is an error,
 * not a class to leave out of the average, which would favour the model with more output
 * classes), whether that label has a row of zeros or only a column. A row of zeros the model
 * never predicted either (an untested class) is left out: the same figure as before such rows
 * existed. Also how a stored evaluation is read (evaluateOnSnapshot.ts), whatever macro-F1 it was
 * stored with.
 */
export function macroF1Of({ labels, predictedLabels, matrix }: EvaluationMetrics["confusion"]): number {
  const onlyPredicted = predictedLabels.filter((l) => l !== UNIDENTIFIED && !labels.includes(l)).length;
  const f1s = labels.flatMap((label, r) => {
    const c = predictedLabels.indexOf(label);
    const tp = matrix[r]![c]!;
    const support = matrix[r]!.reduce((a, b) => a + b, 0);
    const predictedAs = matrix.reduce((sum, row) => sum + row[c]!, 0);
    if (support === 0 && predictedAs === 0) return [];
    return [tp === 0 ? 0 : (2 * tp) / (support + predictedAs)];
  });
  const n = f1s.length + onlyPredicted;
  return n === 0 ? 0 : f1s.reduce((a, b) => a + b, 0) / n;
}

/**
 * A stored evaluation with a row for each of `modelLabels` (support 0 where the TEST part has no
 * cell of it): evaluations stored before rows were made for untested classes, or by a caller that
 * did not name the model's classes, read like new ones. Counts and macro-F1 are unchanged.
 */
export function withModelClasses<T>(e: T, modelLabels: readonly string[]): T {
  if (!hasConfusion(e)) return e;
  const { labels, predictedLabels, matrix } = e.confusion;
  const rows = [...new Set([...labels, ...modelLabels])].sort();
  if (rows.length === labels.length && e.untestedLabels) return e;
  const columns = [...rows, ...predictedLabels.filter((l) => l !== UNIDENTIFIED && !rows.includes(l)), UNIDENTIFIED];
  const confusion = {
    labels: rows,
    predictedLabels: columns,
    matrix: rows.map((label) => {
      const r = labels.indexOf(label);
      return columns.map((column) => {
        const c = predictedLabels.indexOf(column);
        return r === -1 || c === -1 ? 0 : matrix[r]![c]!;
      });
    }),
  };
  return { ...e, perClass: perClassOf(confusion), untestedLabels: untestedOf(confusion), confusion } as T;
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
  return mapEvaluations(metrics, currentEvaluation);
}

/**
 * A model's or a run's stored metrics as served (ModelVersion.metrics, TrainingRun.metrics):
 * with today's macro-F1, and without the per-item calls (`items`), which only the server reads
 * (the paired figures of a promotion's evidence): some kilobytes per evaluation that the
 * dashboard, listing every version's metrics, would fetch and never use.
 */
export function servedMetrics(metrics: unknown): unknown {
  return mapEvaluations(metrics, (e) => withoutItemCalls(currentEvaluation(e)));
}

/** An evaluation without its per-item calls (metrics.test and .champion of a run keep none: the cache has them). */
export function withoutItemCalls<T>(e: T): T {
  if (!e || typeof e !== "object" || !("items" in e)) return e;
  const { items: _kept, ...rest } = e as T & { items?: unknown };
  return rest as T;
}

/** Every test evaluation in stored metrics (`test`, `champion`, `evaluations[snapshot]`), mapped. */
function mapEvaluations(metrics: unknown, map: (e: unknown) => unknown): unknown {
  if (!metrics || typeof metrics !== "object" || Array.isArray(metrics)) return metrics;
  const m = { ...(metrics as Record<string, unknown>) };
  for (const key of ["test", "champion"]) if (m[key]) m[key] = map(m[key]);
  const evaluations = m.evaluations;
  if (evaluations && typeof evaluations === "object" && !Array.isArray(evaluations)) {
    m.evaluations = Object.fromEntries(Object.entries(evaluations).map(([k, e]) => [k, map(e)]));
  }
  return m;
}
