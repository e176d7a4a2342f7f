// Two models scored on the same TEST cells, compared cell by cell. Of the n cells, b are those
// only the candidate got right and c those only the champion got right; the cells both got right
// or both got wrong say nothing about which is better. Counts alone (promotionFigures.ts's
// unpaired interval) cannot see this and treat two accuracies on the same cells as independent.
//
// - McNemar's test, mid-p version: were the two equally good, each of the b + c discordant cells
//   would go either way with probability 1/2, so b ~ Binomial(b + c, 1/2); the two-sided mid-p is
//   2 [P(X <= k) - P(X = k) / 2], k = min(b, c), capped at 1. Fagerland, Lydersen and Laake
//   ("The McNemar test for binary matched-pairs data: mid-p and asymptotic are better than exact
//   conditional", BMC Medical Research Methodology 2013;13:91) recommend it over the exact test,
//   whose p is conservative: on their example below (b = 6, c = 16) the exact p is 0.0525 while the
//   interval excludes 0; the mid-p, 0.0347, agrees with it. Proposals filed before the switch
//   froze the exact p: PairedFigures.mcnemarTest says which (absent: EXACT).
// - The 95% interval of the paired difference (b - c) / n: Newcombe's method 10, the square-and-add
//   of the two accuracies' Wilson score intervals with his correction for their correlation
//   (R. G. Newcombe, "Improved confidence intervals for the difference between binomial proportions
//   based on paired data", Statistics in Medicine 1998;17:2635-2650; among the intervals Fagerland,
//   Lydersen and Laake recommend for it, Statistics in Medicine 2014;33:2850-2875). It stays in
//   [-1, 1], is not degenerate at b = c = 0, and has a closed form; its test checks their worked
//   example (Cavo et al. 2012: -0.1186 to -0.0046).
import type { EvaluationMetrics } from "../../jobs/model/evaluation.ts";
import { decodeItemCalls, type DecodedCalls } from "../../jobs/model/itemCalls.ts";
import { wilsonBounds95 } from "../cases/whiteCellDifferential.ts";

/** Which McNemar p-value a proposal froze: MID_P since the switch, EXACT (conditional) before. */
export type McNemarTest = "EXACT" | "MID_P";

/** The paired figures a proposal freezes (fractions; the interval rounded outwards to a tenth of a point). */
export interface PairedFigures {
  /** The TEST items both were scored on (itemCalls.ts's order hash). */
  itemsSha256: string;
  cells: number;
  bothRight: number;
  /** b: cells only the candidate got right (an abstention counts as wrong, as in accuracy). */
  candidateOnlyRight: number;
  /** c: cells only the champion got right. */
  championOnlyRight: number;
  bothWrong: number;
  /** McNemar test of b against c, two-sided: the mid-p (mcnemarTest MID_P). */
  mcnemarP: number;
  /** Which test mcnemarP is: proposals frozen before the switch to mid-p lack it, and hold the exact p. */
  mcnemarTest?: McNemarTest;
  /** Candidate's accuracy minus the champion's: (b - c) / cells. */
  difference: number;
  lower: number;
  upper: number;
}

/** Within one true class: its cells only the candidate got right, and only the champion. */
export interface ClassPairs {
  candidateOnlyRight: number;
  championOnlyRight: number;
}

export type PairingStatus = "PAIRED" | "NOT_RECORDED" | "DIFFERENT_ITEMS" | "INCONSISTENT" | "NO_TEST_CELLS";

export type Pairing =
  | {
      status: "PAIRED";
      paired: PairedFigures;
      /** The discordant cells of each true class (a recall below the champion's shows them). */
      byClass: Record<string, ClassPairs>;
    }
  | { status: Exclude<PairingStatus, "PAIRED">; note: string };

/**
 * Two-sided McNemar mid-p for b and c discordant pairs: 2 [P(X <= k) - P(X = k) / 2], k = min(b, c),
 * X ~ Binomial(b + c, 1/2), capped at 1; 1 when there are none.
 */
export function mcnemarMidP(b: number, c: number): number {
  assertCount(b, c);
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // P(X = k) in logs: 2^-n underflows a double past n = 1074, and a TEST part of a few thousand
  // cells can have that many discordant ones. C(n, k) as a product of ratios (each >= 1, k <= n/2),
  // taken into the log whenever it grows large: one rounding per factor, not one per logarithm.
  let logChoose = 0;
  let product = 1;
  for (let i = 1; i <= k; i++) {
    product *= (n - i + 1) / i;
    if (product > 1e280) {
      logChoose += Math.log(product);
      product = 1;
    }
  }
  logChoose += Math.log(product);
  // The terms below k relative to P(X = k): P(X = i - 1) / P(X = i) = i / (n - i + 1), decreasing.
  let ratio = 1;
  let below = 0;
  for (let i = k; i >= 1; i--) {
    ratio *= i / (n - i + 1);
    below += ratio;
    if (ratio < 1e-17 * below) break;
  }
  // 2 [P(X < k) + P(X = k) / 2] = P(X = k) (1 + 2 below).
  return Math.min(1, Math.exp(logChoose - n * Math.LN2 + Math.log1p(2 * below)));
}

/**
 * Newcombe's method 10 for the 2x2 table of two models on the same n cells: a both right, b only
 * the first, c only the second, d neither. Unrounded; null for n = 0.
 */
export function pairedDifference95(a: number, b: number, c: number, d: number): { difference: number; lower: number; upper: number } | null {
  assertCount(a, b, c, d);
  const n = a + b + c + d;
  if (n === 0) return null;
  const p1 = (a + b) / n;
  const p2 = (a + c) / n;
  const [l1, u1] = wilsonBounds95(a + b, n)!;
  const [l2, u2] = wilsonBounds95(a + c, n)!;
  // Newcombe's phi: the correlation of the two, 0 where a margin is empty; a positive one is
  // reduced by n/2 (and not below 0), as in his paper, which gave better coverage.
  const margins = (a + b) * (c + d) * (a + c) * (b + d);
  const cross = a * d - b * c;
  const phi = margins === 0 ? 0 : cross > n / 2 ? (cross - n / 2) / Math.sqrt(margins) : cross >= 0 ? 0 : cross / Math.sqrt(margins);
  // p1 - p2, from the discordant cells: without the rounding of two fractions (0.95 - 0.8).
  const difference = (b - c) / n;
  const below = Math.sqrt(Math.max(0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2));
  const above = Math.sqrt(Math.max(0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2));
  return { difference, lower: Math.max(-1, difference - below), upper: Math.min(1, difference + above) };
}

/**
 * The paired comparison of two evaluations on one snapshot's TEST part, from the calls each kept
 * per cell; or why there is none. Evaluations on different items are refused, not paired: row i
 * of one would be another cell than row i of the other. A per-cell record that cannot be read or
 * contradicts its own evaluation's figures is INCONSISTENT, not an older evaluation: something
 * damaged or altered it, and the admin must see that.
 */
export function pairEvaluations(candidate: EvaluationMetrics | null, champion: EvaluationMetrics | null): Pairing {
  const mine = callsOf(candidate);
  const theirs = callsOf(champion);
  if (!("truth" in mine) || !("truth" in theirs)) {
    const sides = [
      { whose: "the candidate's", calls: mine },
      { whose: "the champion's", calls: theirs },
    ];
    // A damaged record is what the reader must see first.
    const bad = sides.filter((s) => "problem" in s.calls);
    if (bad.length > 0) {
      const damaged = bad.flatMap(({ whose, calls }) => why(whose, calls)).join("; and ");
      const also = sides.filter((s) => !bad.includes(s)).flatMap(({ whose, calls }) => why(whose, calls));
      const one = bad.length === 1;
      return {
        status: "INCONSISTENT",
        note: `${capitalised(damaged)}: ${one ? "a damaged or altered record" : "damaged or altered records"}. Not paired, and the figures of ${one ? "that evaluation are" : "those evaluations are"} themselves in doubt: find out why before relying on them${also.length ? `. Also, ${also.join(", and ")}` : ""}`,
      };
    }
    const reasons = sides.flatMap(({ whose, calls }) => why(whose, calls)).join(", and ");
    return {
      status: "NOT_RECORDED",
      note: `${capitalised(reasons)}: the accuracy difference is unpaired (it treats the two accuracies as independent, which on the same cells they are not). Paired figures come from comparing the two on a snapshot neither was evaluated on before (evaluations are kept per snapshot, never redone)`,
    };
  }
  if (mine.itemsSha256 !== theirs.itemsSha256 || mine.truth.length !== theirs.truth.length) {
    return {
      status: "DIFFERENT_ITEMS",
      note: `The two evaluations were made on different TEST items (${mine.truth.length} and ${theirs.truth.length} cells, in lists that differ): not paired, and their figures do not compare cell for cell`,
    };
  }
  const relabelled = mine.truth.filter((t, i) => t !== theirs.truth[i]).length;
  if (relabelled > 0) {
    return {
      status: "DIFFERENT_ITEMS",
      note: `The two evaluations scored ${relabelled} of the same ${mine.truth.length} TEST cells against different labels: not paired, and their figures do not compare cell for cell`,
    };
  }
  const counts = { bothRight: 0, candidateOnlyRight: 0, championOnlyRight: 0, bothWrong: 0 };
  const byClass: Record<string, ClassPairs> = {};
  mine.truth.forEach((truth, i) => {
    const a = mine.called[i] === truth;
    const b = theirs.called[i] === truth;
    byClass[truth] ??= { candidateOnlyRight: 0, championOnlyRight: 0 };
    const pairs = byClass[truth];
    if (a && b) counts.bothRight++;
    else if (a) {
      counts.candidateOnlyRight++;
      pairs.candidateOnlyRight++;
    } else if (b) {
      counts.championOnlyRight++;
      pairs.championOnlyRight++;
    } else counts.bothWrong++;
  });
  const interval = pairedDifference95(counts.bothRight, counts.candidateOnlyRight, counts.championOnlyRight, counts.bothWrong);
  // Both on the same empty TEST part (the same hash of no cell ids): no interval, no test.
  if (!interval) {
    return {
      status: "NO_TEST_CELLS",
      note: "Both evaluations were made on a TEST part with no cell: there is nothing to compare, cell by cell or otherwise",
    };
  }
  return {
    status: "PAIRED",
    paired: {
      itemsSha256: mine.itemsSha256,
      cells: mine.truth.length,
      ...counts,
      mcnemarP: mcnemarMidP(counts.candidateOnlyRight, counts.championOnlyRight),
      mcnemarTest: "MID_P",
      difference: interval.difference,
      // Outwards, to a tenth of a point: the printed interval never claims more than the data give.
      lower: Math.floor(1000 * interval.lower + 1e-9) / 1000,
      upper: Math.ceil(1000 * interval.upper - 1e-9) / 1000,
    },
    byClass,
  };
}

type Calls = DecodedCalls | { absent: true } | { problem: string };

function why(whose: string, calls: Calls): string[] {
  if ("absent" in calls) return [`${whose} evaluation on this snapshot was stored before each TEST cell's call was kept`];
  if ("problem" in calls) return [`${whose} evaluation on this snapshot ${calls.problem}`];
  return [];
}

function capitalised(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

/**
 * An evaluation's per-cell calls, checked against its own figures (cells, accuracy, abstentions,
 * each class's support and recall): calls that do not give them are not the calls it was measured
 * from, and pairing them would compare cells the figures do not describe.
 */
function callsOf(e: EvaluationMetrics | null): Calls {
  if (!e) return { absent: true };
  const calls = decodeItemCalls(e.items);
  if (calls === "absent") return { absent: true };
  if (calls === "unreadable") {
    return { problem: "keeps a per-cell record that cannot be read (not a format this server writes, or damaged)" };
  }
  const contradictions = contradictionsOf(calls, e);
  return contradictions.length === 0 ? calls : { problem: `keeps per-cell calls that contradict its own figures (${contradictions.join("; ")})` };
}

/** Where the calls and the evaluation's own figures disagree, in words (none: they agree). */
function contradictionsOf(calls: DecodedCalls, e: EvaluationMetrics): string[] {
  const n = calls.truth.length;
  const right = calls.truth.filter((t, i) => calls.called[i] === t).length;
  if (n !== e.count) return [`${n} cells in the calls, ${typeof e.count === "number" ? e.count : "none"} in its count`];
  const out: string[] = [];
  const byAccuracy = Math.round(e.accuracy * e.count);
  if (right !== byAccuracy) out.push(`${right} of ${n} cells right in the calls, ${byAccuracy} by its accuracy`);
  const abstained = calls.called.filter((c) => c === null).length;
  if (typeof e.abstained === "number" && abstained !== e.abstained) {
    out.push(`${abstained} abstention${abstained === 1 ? "" : "s"} in the calls, ${e.abstained} in its count`);
  }
  if (e.perClass && typeof e.perClass === "object") {
    const labels = [...new Set([...calls.truth, ...Object.keys(e.perClass)])].sort();
    for (const label of labels) {
      const stated = e.perClass[label];
      const support = calls.truth.filter((t) => t === label).length;
      const hits = calls.truth.filter((t, i) => t === label && calls.called[i] === t).length;
      const statedSupport = stated?.support ?? 0;
      const byRecall = typeof stated?.recall === "number" ? Math.round(stated.recall * support) : null;
      if (support !== statedSupport) out.push(`${label}: ${support} cells in the calls, ${statedSupport} in its support`);
      else if (support > 0 && byRecall !== hits) out.push(`${label}: ${hits} of ${support} right in the calls, ${byRecall ?? "none"} by its recall`);
    }
  }
  return out;
}

function assertCount(...values: number[]) {
  if (!values.every((v) => Number.isInteger(v) && v >= 0)) throw new Error("paired counts must be whole numbers, 0 or more");
}
