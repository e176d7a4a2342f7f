// What a proposal freezes about the two models on the TEST part they were compared on, and where
// the candidate is below the champion there. Evaluations stored since 2026-11-27 keep each TEST
// cell's call, and the two are compared cell by cell (pairedComparison.ts: McNemar's mid-p and a
// paired interval); for older ones, which hold counts only, the accuracy difference carries the
// unpaired interval below, and the evidence says why it is not paired. Each class's recall comes
// with its Wilson interval. A regression is a point estimate below the champion's, not a test:
// the refusal rule stays that simple (the proposer acknowledges it), and where the two were paired
// a class's regression carries its own discordant cells and McNemar's mid-p, so the admin can see
// whether a drop of one cell in four is more than noise (two Wilson intervals overlapping is not a test).
import type { EvaluationMetrics } from "../../jobs/model/evaluation.ts";
import { wilson95 } from "../cases/whiteCellDifferential.ts";
import { type ClassPairs, mcnemarMidP, type McNemarTest } from "./pairedComparison.ts";

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
  /**
   * A recall's cells compared cell by cell, where the two were paired: of the class's TEST cells,
   * those only the candidate got right and only the champion, with McNemar's p on them. Absent
   * for macro-F1, where not paired, and in proposals filed before it was recorded.
   */
  paired?: ClassPairs & { mcnemarP: number; mcnemarTest: McNemarTest };
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

/**
 * Where the candidate is below the champion, by point estimate: macro-F1, and each class both were
 * tested on. With `byClass` (pairEvaluations' discordant cells per true class), each recall below
 * the champion's carries its class's paired counts and McNemar's mid-p: what the point estimate
 * alone does not say.
 */
export function regressionsOf(candidate: Figures, champion: Figures, byClass?: Readonly<Record<string, ClassPairs>>): Regression[] {
  const out: Regression[] = [];
  if (candidate.macroF1 !== null && champion.macroF1 !== null && candidate.macroF1 < champion.macroF1 - EPS) {
    out.push({ measure: "macroF1", label: null, candidate: candidate.macroF1, champion: champion.macroF1, support: null });
  }
  const theirs = new Map((champion.perClass ?? []).map((c) => [c.label, c]));
  for (const mine of candidate.perClass ?? []) {
    const other = theirs.get(mine.label);
    if (mine.recall === null || other?.recall == null || mine.support === 0) continue;
    if (mine.recall < other.recall - EPS) {
      const pairs = byClass?.[mine.label];
      out.push({
        measure: "recall",
        label: mine.label,
        candidate: mine.recall,
        champion: other.recall,
        support: mine.support,
        ...(pairs
          ? { paired: { ...pairs, mcnemarP: mcnemarMidP(pairs.candidateOnlyRight, pairs.championOnlyRight), mcnemarTest: "MID_P" as const } }
          : {}),
      });
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

/**
 * "macro-F1 80.0% against 85.0%", "lymphocyte recall 70.0% against 90.0% (20 cells)", paired:
 * "lymphocyte recall 60.0% against 100.0% (10 cells; only the candidate right on 0 of them, only
 * the champion on 4, McNemar mid-p = 0.0625)".
 */
export function describeRegression(r: Regression): string {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  if (r.measure === "macroF1") return `macro-F1 ${pct(r.candidate)} against ${pct(r.champion)}`;
  const cells = `${r.support} cell${r.support === 1 ? "" : "s"}`;
  const q = r.paired;
  const paired = q
    ? `; only the candidate right on ${q.candidateOnlyRight} of them, only the champion on ${q.championOnlyRight}, ${q.mcnemarTest === "MID_P" ? "McNemar mid-p" : "exact McNemar p"} ${pValue(q.mcnemarP)}`
    : "";
  return `${r.label} recall ${pct(r.candidate)} against ${pct(r.champion)} (${cells}${paired})`;
}

/** "= 0.0496", "< 0.001": three significant digits, as the Models page writes it. */
function pValue(p: number): string {
  return p < 0.001 ? "< 0.001" : `= ${p >= 1 ? 1 : Number(p.toPrecision(3))}`;
}
