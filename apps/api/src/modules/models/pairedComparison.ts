// Two models scored on the same TEST cells, compared cell by cell. Of the n cells, b are those
// only the candidate got right and c those only the champion got right; the cells both got right
// or both got wrong say nothing about which is better. Counts alone (promotionFigures.ts's
// unpaired interval) cannot see this and treat two accuracies on the same cells as independent.
//
// - McNemar's exact test: were the two equally good, each of the b + c discordant cells would go
//   either way with probability 1/2, so b ~ Binomial(b + c, 1/2); the two-sided p-value is
//   min(1, 2 P(X <= min(b, c))). Exact at any count (the chi-square form is not, under ~25
//   discordant cells: a "regression" of a few cells is what a promotion often shows).
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
  /** Exact McNemar test of b against c, two-sided. */
  mcnemarP: number;
  /** Candidate's accuracy minus the champion's: (b - c) / cells. */
  difference: number;
  lower: number;
  upper: number;
}

export type PairingStatus = "PAIRED" | "NOT_RECORDED" | "DIFFERENT_ITEMS";

export type Pairing = { status: "PAIRED"; paired: PairedFigures } | { status: Exclude<PairingStatus, "PAIRED">; note: string };

/** Two-sided exact McNemar p-value for b and c discordant pairs (1 when there are none). */
export function mcnemarExactP(b: number, c: number): number {
  assertCount(b, c);
  const n = b + c;
  if (n === 0) return 1;
  // The binomial terms in logs: 2^-n underflows a double past n = 1074, a TEST part of a few
  // thousand cells can have that many discordant ones.
  let logTerm = -n * Math.LN2;
  let tail = Math.exp(logTerm);
  for (let i = 1; i <= Math.min(b, c); i++) {
    logTerm += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
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
 * of one would be another cell than row i of the other.
 */
export function pairEvaluations(candidate: EvaluationMetrics | null, champion: EvaluationMetrics | null): Pairing {
  const mine = callsOf(candidate);
  const theirs = callsOf(champion);
  if (typeof mine === "string" || typeof theirs === "string") {
    const why = (whose: string, calls: DecodedCalls | "absent" | "unreadable") =>
      calls === "absent"
        ? [`${whose} evaluation on this snapshot was stored before each TEST cell's call was kept`]
        : calls === "unreadable"
          ? [`${whose} evaluation on this snapshot keeps no readable call for each TEST cell`]
          : [];
    const reasons = [...why("the candidate's", mine), ...why("the champion's", theirs)].join(", and ");
    return {
      status: "NOT_RECORDED",
      note: `${reasons.charAt(0).toUpperCase()}${reasons.slice(1)}: the accuracy difference is unpaired (it treats the two accuracies as independent, which on the same cells they are not). Paired figures come from comparing the two on a snapshot neither was evaluated on before (evaluations are kept per snapshot, never redone)`,
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
  mine.truth.forEach((truth, i) => {
    const a = mine.called[i] === truth;
    const b = theirs.called[i] === truth;
    if (a && b) counts.bothRight++;
    else if (a) counts.candidateOnlyRight++;
    else if (b) counts.championOnlyRight++;
    else counts.bothWrong++;
  });
  const interval = pairedDifference95(counts.bothRight, counts.candidateOnlyRight, counts.championOnlyRight, counts.bothWrong)!;
  return {
    status: "PAIRED",
    paired: {
      itemsSha256: mine.itemsSha256,
      cells: mine.truth.length,
      ...counts,
      mcnemarP: mcnemarExactP(counts.candidateOnlyRight, counts.championOnlyRight),
      difference: interval.difference,
      // Outwards, to a tenth of a point: the printed interval never claims more than the data give.
      lower: Math.floor(1000 * interval.lower + 1e-9) / 1000,
      upper: Math.ceil(1000 * interval.upper - 1e-9) / 1000,
    },
  };
}

/**
 * An evaluation's per-cell calls, checked against its own counts: calls that do not give its
 * accuracy are not the calls it was measured from.
 */
function callsOf(e: EvaluationMetrics | null): DecodedCalls | "absent" | "unreadable" {
  if (!e) return "absent";
  const calls = decodeItemCalls(e.items);
  if (typeof calls === "string") return calls;
  const right = calls.truth.filter((t, i) => calls.called[i] === t).length;
  if (calls.truth.length !== e.count || right !== Math.round(e.accuracy * e.count)) return "unreadable";
  return calls;
}

function assertCount(...values: number[]) {
  if (!values.every((v) => Number.isInteger(v) && v >= 0)) throw new Error("paired counts must be whole numbers, 0 or more");
}
