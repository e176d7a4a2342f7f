// What a proposal freezes about the two models on the TEST part they were compared on, and what
// makes the candidate worse than the champion there. The cached evaluations hold counts only, not
// which cells each model got right: the paired counts (cells only one of them got right) cannot be
// recovered from them, so the accuracy difference carries an interval from the counts instead.
import type { EvaluationMetrics } from "../../jobs/model/evaluation.ts";
import { wilson95 } from "../cases/whiteCellDifferential.ts";

export interface ClassRecall {
  label: string;
  /** Null where the TEST part has no cell of the class (support 0). */
  recall: number | null;
  support: number;
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
    perClass: Object.entries(e.perClass ?? {})
      .map(([label, m]) => ({ label, recall: m.support > 0 ? (m.recall ?? null) : null, support: m.support ?? 0 }))
      .sort((a, b) => a.label.localeCompare(b.label)),
  };
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
 * Candidate's accuracy minus the champion's with a 95% interval: Newcombe's hybrid score interval
 * (method 10) from each accuracy's Wilson interval. It treats the two accuracies as independent;
 * on the same cells they are positively correlated, so the interval errs wide, never narrow.
 * Fractions, rounded outwards to a tenth of a point (wilson95 rounds the same way).
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
