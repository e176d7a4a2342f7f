// What a proposal freezes about the two models on the TEST part they were compared on, and what
// makes the candidate worse than the champion there. Evaluations stored since 2026-11-27 keep each
// TEST cell's call, and the two are compared cell by cell (pairedComparison.ts: McNemar's exact
// test and a paired interval); for older ones, which hold counts only, the accuracy difference
// carries the unpaired interval below, and the evidence says why it is not paired. Each class's
// recall comes with its Wilson interval: a drop of 1 cell in 4 is seen for the noise it is.
import type { EvaluationMetrics } from "../../jobs/model/evaluation.ts";
import { wilson95 } from "../cases/whiteCellDifferential.ts";

export interface ClassRecall {
  label: string;
  /** Null where the TEST part has no cell of the class (support 0). */
  recall: number | null;
  support: number;
  /** Wilson 95% interval of the recall, [low, high] as fractions rounded outwards (null: support 0). */
  recallCi95?: [number, number] | null;
}

export interface Figures {
  accuracy: number | null;
  macroF1: number | null;
  /** TEST cells this model got right (null: the evaluation does not say how many cells). */
  correct?: number | null;
  /**
   * TEST cells it declined to classify (below its abstain threshold), counted as wrong in accuracy:
   * two models abstain at their own thresholds, so accuracy alone mixes how well a model
   * classifies with how often it declines (null: not recorded).
   */
  abstained?: number | null;
  perClass?: ClassRecall[];
}

export interface Regression {
  measure: "macroF1" | "recall";
  /** The class, for a recall. */
  label: string | null;
  candidate: number;
  champion: number;
  /** TEST cells of the class, for a recall. */
  support: number | null;
}

/** Below this a difference is rounding, not a regression. */
const EPS = 1e-9;

export function figuresOf(e: EvaluationMetrics | null): Figures {
  if (!e) return { accuracy: null, macroF1: null, correct: null, abstained: null, perClass: [] };
  const count = typeof e.count === "number" ? e.count : null;
  return {
    accuracy: e.accuracy ?? null,
    macroF1: e.macroF1 ?? null,
    correct: count === null || typeof e.accuracy !== "number" ? null : Math.round(e.accuracy * count),
    abstained: typeof e.abstained === "number" ? e.abstained : null,
    perClass: withRecallCi95(
      Object.entries(e.perClass ?? {})
        .map(([label, m]) => ({ label, recall: m.support > 0 ? (m.recall ?? null) : null, support: m.support ?? 0 }))
        .sort((a, b) => a.label.localeCompare(b.label)),
    ),
  };
}

/**
 * Each class's recall with its Wilson 95% interval (wilson95, as the white-cell differential's),
 * from the cells it got right: recall x support is a whole count. Also how proposals frozen before
 * the intervals were (2026-11-27) get theirs, from the recall and support they did freeze.
 */
export function withRecallCi95(perClass: readonly ClassRecall[]): (ClassRecall & { recallCi95: [number, number] | null })[] {
  return perClass.map((c) => {
    if (c.recallCi95 !== undefined) return { ...c, recallCi95: c.recallCi95 };
    const ci = c.recall === null || c.support <= 0 ? null : wilson95(Math.round(c.recall * c.support), c.support);
    // wilson95 gives percent to the tenth: from whole tenths, so 83.2% is 0.832, not 0.8320000000000001.
    return { ...c, recallCi95: ci ? [Math.round(10 * ci[0]) / 1000, Math.round(10 * ci[1]) / 1000] : null };
  });
}

/** Where the candidate is below the champion: macro-F1, and each class both were tested on. */
export function regressionsOf(candidate: Figures, champion: Figures): Regression[] {
  const out: Regression[] = [];
  if (candidate.macroF1 !== null && champion.macroF1 !== null && candidate.macroF1 < champion.macroF1 - EPS) {
    out.push({ measure: "macroF1", label: null, candidate: candidate.macroF1, champion: champion.macroF1, support: null });
  }
  const theirs = new Map((champion.perClass ?? []).map((c) => [c.label, c]));
  for (const mine of candidate.perClass ?? []) {
    const other = theirs.get(mine.label);
    if (mine.recall === null || other?.recall == null || mine.support === 0) continue;
    if (mine.recall < other.recall - EPS) {
      out.push({ measure: "recall", label: mine.label, candidate: mine.recall, champion: other.recall, support: mine.support });
    }
  }
  return out;
}

/** Classes either model knows that the TEST part has no cell of. */
export function untestedLabelsOf(...evaluations: (EvaluationMetrics | null)[]): string[] {
  return [...new Set(evaluations.flatMap((e) => e?.untestedLabels ?? []))].sort();
}

/**
 * Candidate's accuracy minus the champion's with a 95% interval, from the counts alone: Newcombe's
 * hybrid score interval for independent proportions (his 1998 method 10 for unpaired data) from
 * each accuracy's Wilson interval. It treats the two accuracies as independent; on the same cells
 * they are not: it is too wide where the two get mostly the same cells right (the usual case),
 * and too narrow where they err on different cells. Recorded with every
 * proposal; where each cell's calls are kept, the paired interval (pairedComparison.ts) is the
 * one to read. Fractions, rounded outwards to a tenth of a point (wilson95 rounds the same way).
 */
export function accuracyDifference95(candidate: Figures, champion: Figures, n: number | null) {
  if (!n || candidate.correct == null || champion.correct == null) return null;
  const a = wilson95(candidate.correct, n);
  const b = wilson95(champion.correct, n);
  if (!a || !b) return null;
  const pa = (100 * candidate.correct) / n;
  const pb = (100 * champion.correct) / n;
  const d = pa - pb;
  const lower = d - Math.hypot(pa - a[0], b[1] - pb);
  const upper = d + Math.hypot(a[1] - pa, pb - b[0]);
  return {
    difference: d / 100,
    lower: Math.floor(10 * lower + 1e-9) / 1000,
    upper: Math.ceil(10 * upper - 1e-9) / 1000,
  };
}

/** "macro-F1 80.0% against 85.0%", "lymphocyte recall 70.0% against 90.0% (20 cells)". */
export function describeRegression(r: Regression): string {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  return r.measure === "macroF1"
    ? `macro-F1 ${pct(r.candidate)} against ${pct(r.champion)}`
    : `${r.label} recall ${pct(r.candidate)} against ${pct(r.champion)} (${r.support} cell${r.support === 1 ? "" : "s"})`;
}
