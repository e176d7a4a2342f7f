// Minimal chart maths for the SVG charts (no chart library, no CDN).
import { CANONICAL_ORDER } from "@/lib/labels";

export interface LinearScale {
  (value: number): number;
  domain: readonly [number, number];
  range: readonly [number, number];
  ticks(count?: number): number[];
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): LinearScale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  const scale = ((v: number) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0))) as LinearScale;
  Object.assign(scale, { domain, range, ticks: (count = 5) => niceTicks(d0, d1, count) });
  return scale;
}

/** Round tick values (1, 2, 5 x 10^k steps) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  if (min > max) [min, max] = [max, min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  const first = Math.ceil(min / step - 1e-9) * step;
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** [min, max] of the finite values, or the fallback for an empty series. */
export function extent(values: readonly number[], fallback: [number, number] = [0, 1]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo === Infinity ? fallback : [lo, hi];
}

/** Row-normalised confusion matrix (each true-label row sums to 1; an empty row stays 0). */
export function normaliseRows(matrix: readonly (readonly number[])[]): number[][] {
  return matrix.map((row) => {
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (sum ? v / sum : 0));
  });
}

/**
 * Opacity of a confusion-matrix cell from its share of the row. Errors are the point of the
 * picture, and a good model's are small (7 of 335 is 2%): any error is visibly tinted and 10% of
 * the row is full colour. The model package's SVG (packages/model/src/plots.ts) uses the same rule.
 */
export function confusionCellOpacity(share: number, diagonal: boolean): number {
  if (diagonal) return 0.1 + 0.9 * share;
  return share > 0 ? 0.15 + 0.85 * Math.min(1, share / 0.1) : 0;
}

/** Accuracy axis: from the lowest tenth the curves reach (0.9 at most) to 1, so the last percent shows (as packages/model/src/plots.ts). */
export function accuracyDomain(values: readonly number[]): [number, number] {
  const [lo] = extent(values, [0, 1]);
  return [Math.min(0.9, Math.max(0, Math.floor(lo * 10) / 10)), 1];
}

/** SVG path for a polyline through the points, skipping non-finite values (gaps). */
export function linePath(points: readonly { x: number; y: number }[]): string {
  let d = "";
  let pen = false;
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** Class colours (d3's category10), one per class of CANONICAL_ORDER. */
const PALETTE = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"];
/** For labels outside the canonical list (the rest of category10, then its light tints). */
const EXTRA = ["#bcbd22", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5"];
/**
 * Review categories keep one colour each: grey for "not a class", dark brown for debris; and
 * blast, which every review page offers, its own (outside both palettes, which it would shift).
 */
const CATEGORY_COLOURS: Record<string, string> = { unidentified: "#b0b0b0", artifact: "#3b2a1a", blast: "#7a0177" };

/**
 * A class's colour, fixed like its key (labels.ts): the canonical classes by their place in
 * CANONICAL_ORDER, so registering a model never recolours a class; other labels by their place
 * in `labels` in a second palette.
 */
export function classColour(labels: readonly string[], label: string): string {
  const category = CATEGORY_COLOURS[label];
  if (category) return category;
  const canonical = (CANONICAL_ORDER as readonly string[]).indexOf(label);
  if (canonical >= 0) return PALETTE[canonical]!;
  const others = labels.filter((l) => !(CANONICAL_ORDER as readonly string[]).includes(l) && !CATEGORY_COLOURS[l]);
  const i = others.indexOf(label);
  if (i < 0) return "#555555";
  return EXTRA[i % EXTRA.length]!;
}
