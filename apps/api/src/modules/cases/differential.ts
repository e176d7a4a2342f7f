// Differential count: per-class counts over each cell's current label (the human decision,
// else the AI's), reported the way a hematology lab reports a manual differential: percentages
// of the white cells counted; what is not a white cell (artifacts, platelets, nucleated red
// cells, cells nobody could classify) listed by count outside that denominator, nucleated red
// cells also per 100 white cells. CAR-T cells are white cells (lymphocytes): given as a share of
// the white cells, of all lymphocytes, with a 95% interval that says how far a small count can
// be trusted.
import type { PrismaClient } from "@rcmnet/db";
import { ARTIFACT, CART_LABEL, UNIDENTIFIED } from "./caseRules.ts";

export const PLATELET = "platelet";
export const ERYTHROBLAST = "erythroblast";
const LYMPHOCYTE = "lymphocyte";
/** Labels outside the white-cell denominator. The dashboard's review model keeps the same list. */
export const NOT_WHITE_CELLS: readonly string[] = [ARTIFACT, PLATELET, ERYTHROBLAST, UNIDENTIFIED];
/** A manual differential counts at least 100 white cells; fewer is flagged, not refused. */
export const MIN_WHITE_CELLS = 100;

export interface LabelCount {
  label: string | null;
  count: number;
  reviewed: number;
}

export interface Differential {
  /** Every cell of the case (objects reviewed), whatever its label. */
  total: number;
  /** White cells counted: the denominator. */
  counted: number;
  /** White-cell classes; percentages to one decimal that add up to 100 exactly. */
  rows: { label: string; count: number; percent: number }[];
  /** Labelled cells outside the denominator, by label. */
  excluded: { label: string; count: number }[];
  artifacts: number;
  unlabelled: number;
  unreviewed: number;
  cartCount: number;
  /** CAR-T cells per 100 white cells (the CAR-T row's percent). */
  cartPercent: number;
  /** Wilson 95% interval of cartPercent; null with no white cells. */
  cartPercentCi95: [number, number] | null;
  /** All lymphocytes (CAR-T cells included) per 100 white cells. */
  lymphocytePercent: number;
  /** CAR-T cells per 100 lymphocytes; null with no lymphocytes. */
  cartPercentOfLymphocytes: number | null;
  /** Nucleated red cells per 100 white cells; null with no white cells. */
  nrbcPer100Wbc: number | null;
  /** Fewer white cells than a manual differential counts (MIN_WHITE_CELLS). */
  belowMinimum: boolean;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Percentages to one decimal that add up to 100.0 (largest remainder): rounding each on its own
 * can print 33.3 + 33.3 + 33.3 on a signed report.
 */
export function percentsSummingTo100(counts: number[]): number[] {
  const total = counts.reduce((s, n) => s + n, 0);
  if (total === 0) return counts.map(() => 0);
  const exact = counts.map((n) => (1000 * n) / total);
  const tenths = exact.map(Math.floor);
  let left = 1000 - tenths.reduce((s, n) => s + n, 0);
  const byRemainder = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left-- <= 0) break;
    tenths[i]! += 1;
  }
  return tenths.map((t) => t / 10);
}

/** Wilson score interval (95%) of x of n, in percent: honest at small counts, unlike p ± 1.96·SE. */
export function wilson95(x: number, n: number): [number, number] | null {
  if (n === 0) return null;
  const z = 1.96;
  const p = x / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [round1(100 * Math.max(0, centre - half)), round1(100 * Math.min(1, centre + half))];
}

export function computeDifferential(counts: LabelCount[]): Differential {
  let total = 0, unlabelled = 0, reviewed = 0;
  const white = new Map<string, number>();
  const excluded = new Map<string, number>();
  for (const c of counts) {
    total += c.count;
    reviewed += c.reviewed;
    if (c.label === null) unlabelled += c.count;
    else {
      const into = NOT_WHITE_CELLS.includes(c.label) ? excluded : white;
      into.set(c.label, (into.get(c.label) ?? 0) + c.count);
    }
  }
  const ordered = [...white].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const percents = percentsSummingTo100(ordered.map(([, n]) => n));
  const rows = ordered.map(([label, count], i) => ({ label, count, percent: percents[i]! }));
  const counted = ordered.reduce((s, [, n]) => s + n, 0);
  const cart = rows.filter((r) => CART_LABEL.test(r.label));
  const cartCount = cart.reduce((s, r) => s + r.count, 0);
  const lymphocytes = cartCount + (white.get(LYMPHOCYTE) ?? 0);
  const per100 = (n: number) => (counted === 0 ? 0 : round1((100 * n) / counted));
  return {
    total,
    counted,
    rows,
    excluded: [...excluded].map(([label, count]) => ({ label, count })).sort((a, b) => NOT_WHITE_CELLS.indexOf(a.label) - NOT_WHITE_CELLS.indexOf(b.label)),
    artifacts: excluded.get(ARTIFACT) ?? 0,
    unlabelled,
    unreviewed: total - reviewed,
    cartCount,
    cartPercent: round1(cart.reduce((s, r) => s + r.percent, 0)),
    cartPercentCi95: wilson95(cartCount, counted),
    lymphocytePercent: per100(lymphocytes),
    cartPercentOfLymphocytes: lymphocytes === 0 ? null : round1((100 * cartCount) / lymphocytes),
    nrbcPer100Wbc: counted === 0 ? null : per100(excluded.get(ERYTHROBLAST) ?? 0),
    belowMinimum: counted < MIN_WHITE_CELLS,
  };
}

export async function caseLabelCounts(prisma: PrismaClient, caseId: string): Promise<LabelCount[]> {
  const rows = await prisma.$queryRaw<{ label: string | null; count: bigint; reviewed: bigint }[]>`
    SELECT c."currentLabel" AS label, count(*) AS count, count(*) FILTER (WHERE c."reviewCount" > 0) AS reviewed
    FROM cell c JOIN slide s ON s.id = c."slideId"
    WHERE s."caseId" = ${caseId}::uuid AND s."analysisStatus" <> 'FAILED'
    GROUP BY c."currentLabel"`;
  return rows.map((r) => ({ label: r.label, count: Number(r.count), reviewed: Number(r.reviewed) }));
}
