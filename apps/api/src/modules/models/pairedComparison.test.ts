import { describe, expect, it } from "vitest";
import { evaluatePredictions } from "../../jobs/model/evaluation.ts";
import { mcnemarMidP, pairedDifference95, pairEvaluations } from "./pairedComparison.ts";
import { accuracyDifference95, figuresOf } from "./promotionFigures.ts";

/**
 * The two-sided mid-p in whole-number arithmetic: (2 sum of C(n, i) for i <= k, minus C(n, k)) over
 * 2^n, k = min(b, c), capped at 1.
 */
function midP(b: number, c: number): number {
  const n = BigInt(b + c);
  if (n === 0n) return 1;
  let term = 1n;
  let tail = 1n;
  for (let i = 1n; i <= BigInt(Math.min(b, c)); i++) {
    term = (term * (n - i + 1n)) / i;
    tail += term;
  }
  // To 18 decimals, without a double overflowing on the way.
  const scale = 10n ** 18n;
  return Math.min(1, Number(((2n * tail - term) * scale) / 2n ** n) / Number(scale));
}

describe("McNemar's mid-p test", () => {
  it("gives the known values", () => {
    // b = 1, c = 9: 2 (1 + 10 - 10/2) / 1024 = 12 / 1024 (the exact test's 0.0215 less P(X = 1)).
    expect(mcnemarMidP(1, 9)).toBeCloseTo(0.01171875, 14);
    expect(mcnemarMidP(1, 9).toFixed(5)).toBe("0.01172");
    expect(mcnemarMidP(9, 1)).toBe(mcnemarMidP(1, 9));
    // b = 6, c = 16 (Fagerland et al.'s example below): (2 x 110056 - 74613) / 2^22 = 145499 / 4194304.
    expect(mcnemarMidP(6, 16)).toBeCloseTo(145499 / 4194304, 14);
    expect(mcnemarMidP(6, 16).toFixed(4)).toBe("0.0347");
    // All discordant cells one way: 1 / 2^n (the exact test's 2 / 2^n less P(X = 0) = 1 / 2^n).
    expect(mcnemarMidP(0, 5)).toBeCloseTo(1 / 32, 15);
    expect(mcnemarMidP(10, 0)).toBeCloseTo(1 / 1024, 15);
    // One discordant cell: 1/2, where the exact test says 1.
    expect(mcnemarMidP(0, 1)).toBeCloseTo(0.5, 15);
    // An even split: 1 (P(X <= k) = 1/2 + P(X = k)/2). None: 1.
    for (const k of [1, 5, 40, 700]) expect(mcnemarMidP(k, k), `${k}`).toBeCloseTo(1, 12);
    expect(mcnemarMidP(5, 5)).toBeLessThanOrEqual(1);
    expect(mcnemarMidP(0, 0)).toBe(1);
  });

  it("agrees with whole-number arithmetic, also where 2^-n underflows a double (the terms are summed in logs)", () => {
    for (const [b, c] of [[3, 7], [12, 2], [4, 1], [40, 20], [100, 130], [600, 520], [1500, 1400], [3000, 2800], [10_150, 9_850], [2, 2500]] as const) {
      const p = mcnemarMidP(b, c);
      const expected = midP(b, c);
      expect(Math.abs(p - expected), `${b}, ${c}`).toBeLessThanOrEqual(1e-9 * Math.max(expected, 1e-300));
    }
    // 5,800 discordant cells: 2^-5800 is 0 as a double, the p-value is not.
    expect(mcnemarMidP(3000, 2800)).toBeCloseTo(0.008636315, 8);
    expect(mcnemarMidP(1500, 1400)).toBeCloseTo(0.063344759, 8);
    // 20,000 discordant cells, split 10,150 to 9,850 (z = 2.12).
    expect(mcnemarMidP(10_150, 9_850)).toBeCloseTo(0.033896712, 8);
  });

  it("refuses counts that are not counts", () => {
    expect(() => mcnemarMidP(-1, 2)).toThrow(/whole numbers/);
    expect(() => mcnemarMidP(1.5, 2)).toThrow(/whole numbers/);
  });
});

describe("Newcombe's paired interval (method 10)", () => {
  it("reproduces the published worked example", () => {
    // Cavo et al. 2012, complete response before and after consolidation therapy: 59 both, 6
    // only before, 16 only after, 80 neither. Fagerland, Lydersen and Laake, Statistical Analysis
    // of Contingency Tables (2017), ch. 8 (R package contingencytables, tests/testthat/test-ch8.R):
    // estimate -0.0621, 95% CI -0.1186 to -0.0046.
    const r = pairedDifference95(59, 6, 16, 80)!;
    expect(r.difference).toBeCloseTo(-0.0621, 4);
    expect(r.lower).toBeCloseTo(-0.1186, 4);
    expect(r.upper).toBeCloseTo(-0.0046, 4);
  });

  it("tells the same story as the mid-p test on that example, where the exact test did not", () => {
    // b = 6, c = 16: the interval excludes 0; the exact test's p is 0.0525, the mid-p 0.0347.
    const r = pairedDifference95(59, 6, 16, 80)!;
    expect(r.upper).toBeLessThan(0);
    expect(mcnemarMidP(6, 16)).toBeLessThan(0.05);
  });

  it("holds at the edges: no discordant cell, all discordant, one cell", () => {
    // Values from an independent implementation of the same formulas (Python, z = 1.96).
    const cases: [number[], [number, number, number]][] = [
      // b = c = 0: a symmetric interval around 0, not a point.
      [[10, 0, 0, 0], [0, -0.27754, 0.27754]],
      [[0, 0, 0, 4], [0, -0.4899, 0.4899]],
      // All discordant, both ways: phi = -1, the widest combination.
      [[0, 3, 7, 0], [-0.4, -0.784421, 0.206454]],
      // All discordant, one way: clamped at 1, never past it.
      [[0, 5, 0, 0], [1, 0.385536, 1]],
      // One cell.
      [[1, 0, 0, 0], [0, -0.793457, 0.793457]],
      [[0, 1, 0, 0], [1, -0.122117, 1]],
      [[15, 4, 1, 0], [0.15, -0.082348, 0.374486]],
      [[80, 12, 2, 6], [0.1, 0.0263, 0.179995]],
    ];
    for (const [[a, b, c, d], [difference, lower, upper]] of cases) {
      const r = pairedDifference95(a!, b!, c!, d!)!;
      expect(r.difference, `${[a, b, c, d]}`).toBeCloseTo(difference, 6);
      expect(r.lower, `${[a, b, c, d]}`).toBeCloseTo(lower, 5);
      expect(r.upper, `${[a, b, c, d]}`).toBeCloseTo(upper, 5);
      expect(r.lower).toBeGreaterThanOrEqual(-1);
      expect(r.upper).toBeLessThanOrEqual(1);
    }
    expect(pairedDifference95(0, 0, 0, 0)).toBeNull();
  });
});

describe("pairing two evaluations", () => {
  const ids = Array.from({ length: 20 }, (_, i) => `cell-${String(i).padStart(2, "0")}`);
  const truth = ids.map((_, i) => (i < 10 ? "car_t" : "lymphocyte"));
  /** Calls that get right the cells whose index `right` accepts, the others called the other class. */
  const calls = (right: (i: number) => boolean) =>
    truth.map((t, i) => ({ label: right(i) ? t : t === "car_t" ? "lymphocyte" : "car_t", abstained: false }));

  it("counts the cells only one got right, and tests and bounds the difference on them", () => {
    // Champion: all lymphocytes, 6 of 10 CAR-T cells. Candidate: all CAR-T cells, 9 of 10
    // lymphocytes, and it abstains on one (wrong, as in accuracy).
    const champion = evaluatePredictions(truth, calls((i) => i >= 10 || i < 6), [], ids);
    const candidate = evaluatePredictions(
      truth,
      calls((i) => i !== 19).map((c, i) => (i === 18 ? { ...c, abstained: true } : c)),
      [],
      ids,
    );
    const pairing = pairEvaluations(candidate, champion);
    expect(pairing.status).toBe("PAIRED");
    if (pairing.status !== "PAIRED") return;
    expect(pairing.paired).toMatchObject({ cells: 20, bothRight: 14, candidateOnlyRight: 4, championOnlyRight: 2, bothWrong: 0 });
    expect(pairing.paired.difference).toBeCloseTo(0.1);
    // 4 against 2: mid-p 2 (1 + 6 + 15 - 15/2) / 64 = 29 / 64.
    expect(pairing.paired).toMatchObject({ mcnemarTest: "MID_P" });
    expect(pairing.paired.mcnemarP).toBeCloseTo(29 / 64, 12);
    // Within each true class: CAR-T cells only the candidate got right (the champion missed 4),
    // lymphocytes only the champion (the candidate abstained on one and missed one).
    expect(pairing.byClass).toEqual({
      car_t: { candidateOnlyRight: 4, championOnlyRight: 0 },
      lymphocyte: { candidateOnlyRight: 0, championOnlyRight: 2 },
    });
    const raw = pairedDifference95(14, 4, 2, 0)!;
    // Rounded outwards to a tenth of a point.
    expect(pairing.paired.lower).toBe(Math.floor(1000 * raw.lower) / 1000);
    expect(pairing.paired.upper).toBe(Math.ceil(1000 * raw.upper) / 1000);
    expect(pairing.paired.lower).toBeLessThanOrEqual(raw.lower);
    expect(pairing.paired.upper).toBeGreaterThanOrEqual(raw.upper);
  });

  it("is narrower than the unpaired interval where the two models get the same cells right, wider where they err on different cells", () => {
    // 100 cells: 85 both right, 8 only the candidate, 1 only the champion, 6 neither: 93% against
    // 86%. Unpaired, the interval reaches below 0 (-1.7 points); paired, it does not (+0.8).
    const many = Array.from({ length: 100 }, (_, i) => `c${String(i).padStart(3, "0")}`);
    const t = many.map(() => "car_t");
    const call = (ok: boolean) => ({ label: ok ? "car_t" : "lymphocyte", abstained: false });
    const candidate = evaluatePredictions(t, many.map((_, i) => call(i < 93)), [], many);
    const champion = evaluatePredictions(t, many.map((_, i) => call(i < 85 || i === 93)), [], many);
    const pairing = pairEvaluations(candidate, champion);
    if (pairing.status !== "PAIRED") throw new Error(pairing.note);
    expect(pairing.paired).toMatchObject({ bothRight: 85, candidateOnlyRight: 8, championOnlyRight: 1, bothWrong: 6 });
    const unpaired = accuracyDifference95(figuresOf(candidate), figuresOf(champion), 100)!;
    expect(unpaired.lower).toBeLessThan(0);
    expect(pairing.paired.lower).toBeGreaterThan(0);
    expect(pairing.paired.upper - pairing.paired.lower).toBeLessThan(unpaired.upper - unpaired.lower);
    // 100 cells, every one right by exactly one of the two (93 and 7): the unpaired interval is too narrow.
    const apart = pairEvaluations(candidate, evaluatePredictions(t, many.map((_, i) => call(i >= 93)), [], many));
    if (apart.status !== "PAIRED") throw new Error(apart.note);
    const apartUnpaired = accuracyDifference95(figuresOf(candidate), figuresOf(evaluatePredictions(t, many.map((_, i) => call(i >= 93)))), 100)!;
    expect(apart.paired.upper - apart.paired.lower).toBeGreaterThan(apartUnpaired.upper - apartUnpaired.lower);
  });

  it("refuses to pair evaluations of different TEST items, saying so", () => {
    const champion = evaluatePredictions(truth, calls(() => true), [], ids);
    // Another TEST part: one cell changed.
    const other = ids.map((id, i) => (i === 3 ? "cell-other" : id));
    const elsewhere = pairEvaluations(evaluatePredictions(truth, calls(() => true), [], other), champion);
    expect(elsewhere).toMatchObject({ status: "DIFFERENT_ITEMS", note: expect.stringMatching(/different TEST items \(20 and 20 cells/) });
    // Fewer cells.
    const fewer = pairEvaluations(evaluatePredictions(truth.slice(1), calls(() => true).slice(1), [], ids.slice(1)), champion);
    expect(fewer).toMatchObject({ status: "DIFFERENT_ITEMS", note: expect.stringMatching(/\(19 and 20 cells/) });
    // The same cells, in another order: row i would be another cell.
    const order = [...ids.keys()].reverse();
    const reordered = pairEvaluations(
      evaluatePredictions(order.map((i) => truth[i]!), order.map((i) => calls(() => true)[i]!), [], order.map((i) => ids[i]!)),
      champion,
    );
    expect(reordered.status).toBe("DIFFERENT_ITEMS");
    // The same cells scored against other labels.
    const relabelled = truth.map((t, i) => (i === 0 ? "lymphocyte" : t));
    const other2 = pairEvaluations(evaluatePredictions(relabelled, calls(() => true), [], ids), champion);
    expect(other2).toMatchObject({ status: "DIFFERENT_ITEMS", note: expect.stringMatching(/1 of the same 20 TEST cells against different labels/) });
  });

  it("falls back, saying why, where an evaluation kept no call per cell", () => {
    const withCalls = evaluatePredictions(truth, calls(() => true), [], ids);
    const older = evaluatePredictions(truth, calls(() => true));
    expect(older.items).toBeUndefined();
    expect(pairEvaluations(withCalls, older)).toMatchObject({
      status: "NOT_RECORDED",
      note: expect.stringMatching(/^The champion's evaluation on this snapshot was stored before each TEST cell's call was kept: the accuracy difference is unpaired/),
    });
    expect(pairEvaluations(older, older)).toMatchObject({ note: expect.stringMatching(/^The candidate's evaluation .+, and the champion's evaluation/) });
    // A stored evaluation of counts only (as older fixtures and registrations hold).
    expect(pairEvaluations({ accuracy: 0.9, macroF1: 0.9 } as never, withCalls).status).toBe("NOT_RECORDED");
  });

  it("flags per-cell calls that contradict their own evaluation, or cannot be read, as INCONSISTENT: not an older evaluation", () => {
    const withCalls = evaluatePredictions(truth, calls(() => true), [], ids);
    // Calls edited after the fact: they no longer give the accuracy stored beside them.
    const tampered = { ...withCalls, items: { ...withCalls.items!, called: withCalls.items!.called.replace(/^./, "0") } };
    expect(pairEvaluations(tampered, withCalls)).toEqual({
      status: "INCONSISTENT",
      note: "The candidate's evaluation on this snapshot keeps per-cell calls that contradict its own figures (19 of 20 cells right in the calls, 20 by its accuracy; 1 abstention in the calls, 0 in its count; car_t: 9 of 10 right in the calls, 10 by its recall): a damaged or altered record. Not paired, and the figures of that evaluation are themselves in doubt: find out why before relying on them",
    });
    // A class's cells moved to another class: the counts still agree, the per-class figures do not.
    const swapped = evaluatePredictions(truth, calls(() => true), [], ids);
    const moved = { ...swapped, perClass: { ...swapped.perClass, car_t: { ...swapped.perClass.car_t!, support: 9 } } };
    expect(pairEvaluations(withCalls, moved)).toMatchObject({
      status: "INCONSISTENT",
      note: expect.stringMatching(/^The champion's evaluation .+ \(car_t: 10 cells in the calls, 9 in its support\)/),
    });
    // A record this server cannot read at all (an unknown format, a code outside its table).
    const unreadable = { ...withCalls, items: { ...withCalls.items!, format: 2 } } as never;
    expect(pairEvaluations(withCalls, unreadable)).toMatchObject({
      status: "INCONSISTENT",
      note: expect.stringMatching(/^The champion's evaluation on this snapshot keeps a per-cell record that cannot be read/),
    });
    // Beside an older evaluation: the damaged record is what is said first, the other reason after.
    const older = evaluatePredictions(truth, calls(() => true));
    expect(pairEvaluations(older, tampered)).toMatchObject({
      status: "INCONSISTENT",
      note: expect.stringMatching(/^The champion's evaluation .+contradict.+: a damaged or altered record\. .+\. Also, the candidate's evaluation on this snapshot was stored before each TEST cell's call was kept$/),
    });
  });

  it("says there is nothing to compare on a TEST part with no cell, instead of failing", () => {
    const none = evaluatePredictions([], [], ["car_t"], []);
    expect(none.items?.truth).toBe("");
    expect(pairEvaluations(none, none)).toEqual({
      status: "NO_TEST_CELLS",
      note: "Both evaluations were made on a TEST part with no cell: there is nothing to compare, cell by cell or otherwise",
    });
  });
});
