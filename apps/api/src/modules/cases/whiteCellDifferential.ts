// The white-cell differential as a hematology lab reports a manual one: percentages of the
// white cells counted; what is not a white cell (artifacts, platelets, nucleated red cells, cells
// nobody could classify) listed by count outside that denominator, nucleated red cells also per
// 100 white cells. CAR-T cells are white cells (lymphocytes): given as a share of the white
// cells, of all lymphocytes, with a 95% interval that says how far a small count can be trusted.
// Pure and import-free: the API signs it (differential.ts) and the dashboard shows it live from
// the same code (@rcmnet/api/differential), so the page and the signature cannot disagree.

/** Labels outside the white-cell denominator: listed by count (nucleated red cells also per 100 WBC). */
export const NOT_WHITE_CELLS: readonly string[] = ["artifact", "platelet", "erythroblast", "unidentified"];
/** Whether a label leaves the cell unidentified, however a model spells it ("Unidentified"). */
export function isUnidentified(label: string | null | undefined): boolean {
  return label?.toLowerCase() === "unidentified";
}
/**
 * "Blast / abnormal cell": a label only a hematologist gives (no model has the class), always
 * allowed. A blast is a white cell: it counts in the denominator (called unidentified, it would
 * leave it and inflate every share, CAR-T included). Listed in the differential only where a cell
 * has it (no model screened for it, so "0 blasts" would be a finding nobody made).
 */
export const BLAST = "blast";

/**
 * The fixed order of the classes a hematologist meets, in the differential's rows and on the
 * review page: the target cell first, then the classic differential order (blasts after the
 * immature granulocytes, as a manual differential lists them), then the PBC extras. A report's
 * rows never reorder with the counts, so "Basophils" sits in the same line on every patient's
 * report and every version of it. The review page's number keys are this order without blast
 * (apps/web/src/lib/labels.ts): blast came later, and keys 1-9 stay where muscle memory has them.
 */
export const CELL_CLASS_ORDER = ["car_t", "lymphocyte", "neutrophil", "monocyte", "eosinophil", "basophil", "ig", BLAST, "erythroblast", "platelet"] as const;

/** Known classes in CELL_CLASS_ORDER, then any other label alphabetically. */
export function byClassOrder(a: string, b: string): number {
  const rank = (l: string) => {
    const i = (CELL_CLASS_ORDER as readonly string[]).indexOf(l);
    return i < 0 ? CELL_CLASS_ORDER.length : i;
  };
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A manual differential counts at least 100 white cells; fewer is flagged, not refused. */
export const MIN_WHITE_CELLS = 100;
/** CAR-T cell labels as models name them (car_t, CAR-T). */
export const CART_LABEL = /^car[-_ ]?t$/i;

export interface WhiteCellDifferential {
  counted: number;
  /**
   * White-cell classes in CELL_CLASS_ORDER, each class the models could call listed even at 0
   * (a 0 is a finding; a missing row reads as "not assessed"); percentages to one decimal adding
   * up to 100, null where no white cell was counted (no share was measured: null, never 0).
   */
  rows: { label: string; count: number; percent: number | null }[];
  excluded: { label: string; count: number }[];
  /**
   * Whether the cells were screened for CAR-T at all: every model that classified them has a
   * CAR-T class. Without one, a CAR-T cell is called a lymphocyte and "0 CAR-T cells" would be a
   * measurement nobody made, so the CAR-T figures are null (a reviewer's CAR-T calls stay in
   * cartCount and the rows).
   */
  cartAssessed: boolean;
  cartCount: number;
  /** Null where CAR-T was not assessed, and where no white cell was counted (as every share below). */
  cartPercent: number | null;
  cartPercentCi95: [number, number] | null;
  lymphocytePercent: number | null;
  cartPercentOfLymphocytes: number | null;
  nrbcPer100Wbc: number | null;
  belowMinimum: boolean;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Percentages to one decimal that add up to 100.0 (largest remainder; ties to the earlier one). */
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

/**
 * Wilson score interval (95%, z = 1.96) of x of n as unrounded fractions, for calculations that
 * build on it (the paired accuracy difference, promotionFigures.ts) and round only their result.
 */
export function wilsonBounds95(x: number, n: number): [number, number] | null {
  if (n === 0) return null;
  const z = 1.96;
  const p = x / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Wilson score interval (95%) of x of n, in percent. */
export function wilson95(x: number, n: number): [number, number] | null {
  const bounds = wilsonBounds95(x, n);
  if (!bounds) return null;
  // Rounded outwards, to the tenth: the printed interval never claims more than the data give.
  const lower = Math.floor(1000 * bounds[0] + 1e-9) / 10;
  const upper = Math.ceil(1000 * bounds[1] - 1e-9) / 10;
  return [lower, upper];
}

/** All lymphocytes: CAR-T cells are lymphocytes too. */
function lymphocyteCount(rows: readonly { label: string; count: number }[], cartCount: number): number {
  return cartCount + rows.filter((r) => r.label.toLowerCase() === "lymphocyte").reduce((s, r) => s + r.count, 0);
}

/** Whether models with these label sets can call a cell CAR-T: each has a CAR-T class, and there is at least one. */
export function screensForCart(modelLabelSets: readonly (readonly string[])[]): boolean {
  return modelLabelSets.length > 0 && modelLabelSets.every((labels) => labels.some((l) => CART_LABEL.test(l)));
}

export interface AbsoluteCounts {
  wbcPerUl: number;
  /** Null where the cells were not screened for CAR-T (WhiteCellDifferential.cartAssessed). */
  cartPerUl: number | null;
  /** The Wilson 95% interval of the CAR-T share, carried over to cells per µL. */
  cartPerUlCi95: [number, number] | null;
  lymphocytesPerUl: number;
}

/** The specimen names the case-details form offers; free text is kept for anything else. */
export const SPECIMEN_SUGGESTIONS: readonly string[] = [
  "peripheral blood",
  "bone marrow aspirate",
  "cerebrospinal fluid",
  "pleural fluid",
  "apheresis product",
];

/**
 * Whether the specimen is blood from a vein or capillary ("peripheral blood", "PB", "whole blood
 * (EDTA)"): only there does an analyser's white-cell count per µL scale a smear's shares into
 * cells per µL of blood. A marrow aspirate's or a fluid's count means something else, and an
 * unnamed specimen cannot be assumed to be blood.
 */
export function isPeripheralBlood(specimen: string | null | undefined): boolean {
  const s = (specimen ?? "").trim().toLowerCase().replace(/\s+/g, " ");
  return /^(pb|blood|(peripheral|whole|venous|capillary) blood)( \(.*\))?$/.test(s);
}

/** What absolute counts come from: the case's specimen, its analyser count, and how its cells were imaged. */
export interface CountSource {
  specimen: string | null | undefined;
  wbcCount: number | null | undefined;
  /** Whether single-cell crops (chosen by a person, not counted across a smear) contributed cells. */
  fromCrops: boolean;
}

/**
 * Cells per µL of blood from the analyser's white-cell count (×10⁹/L = ×1,000/µL) and the counted
 * shares, as CAR-T expansion is followed; null without a count, without white cells counted, for
 * a specimen that is not peripheral blood, or when hand-picked crops contributed cells (their
 * shares are not a differential count, so scaling them by the blood count would be fiction). A
 * morphology estimate: as precise as the share it comes from, which the interval says.
 */
export function absoluteCounts({ specimen, wbcCount, fromCrops }: CountSource, d: WhiteCellDifferential): AbsoluteCounts | null {
  if (wbcCount === null || wbcCount === undefined || d.counted === 0 || fromCrops || !isPeripheralBlood(specimen)) return null;
  const wbcPerUl = wbcCount * 1000;
  const lymphocytes = lymphocyteCount(d.rows, d.cartCount);
  const ci = d.cartPercentCi95;
  return {
    wbcPerUl: Math.round(wbcPerUl),
    cartPerUl: d.cartAssessed ? Math.round((wbcPerUl * d.cartCount) / d.counted) : null,
    cartPerUlCi95: ci ? [Math.floor((wbcPerUl * ci[0]) / 100), Math.ceil((wbcPerUl * ci[1]) / 100)] : null,
    lymphocytesPerUl: Math.round((wbcPerUl * lymphocytes) / d.counted),
  };
}

/**
 * `screened`: the classes the models that classified the cells can call; each is listed, at 0
 * where no cell has it. Rows and excluded labels come in CELL_CLASS_ORDER.
 */
export function whiteCellDifferential(
  counts: readonly { label: string; count: number }[],
  cartAssessed: boolean,
  screened: readonly string[] = [],
): WhiteCellDifferential {
  const white = new Map<string, number>();
  const excluded = new Map<string, number>();
  for (const c of [...screened.map((label) => ({ label, count: 0 })), ...counts]) {
    // Labels are compared as models may spell them ("Platelet", "platelet").
    const into = NOT_WHITE_CELLS.includes(c.label.toLowerCase()) ? excluded : white;
    into.set(c.label, (into.get(c.label) ?? 0) + c.count);
  }
  const ordered = [...white].sort((a, b) => byClassOrder(a[0], b[0]));
  const counted = ordered.reduce((s, [, n]) => s + n, 0);
  // No white cell counted (every cell an artifact, a platelet, left unidentified…): no share was
  // measured, so every share is null, never 0 (a signed "CAR-T cell 0 | 0.0%" would be a finding
  // nobody made). The counts stay: 0 cells is what was seen.
  const percents = counted === 0 ? null : percentsSummingTo100(ordered.map(([, n]) => n));
  const rows = ordered.map(([label, count], i) => ({ label, count, percent: percents ? percents[i]! : null }));
  const cart = rows.filter((r) => CART_LABEL.test(r.label));
  const cartCount = cart.reduce((s, r) => s + r.count, 0);
  const lymphocytes = lymphocyteCount(rows, cartCount);
  const sumOfPercents = (of: readonly { percent: number | null }[]) => (counted === 0 ? null : round1(of.reduce((s, r) => s + (r.percent ?? 0), 0)));
  const per100 = (n: number) => round1((100 * n) / counted);
  return {
    counted,
    rows,
    excluded: [...excluded].map(([label, count]) => ({ label, count })).sort((a, b) => NOT_WHITE_CELLS.indexOf(a.label.toLowerCase()) - NOT_WHITE_CELLS.indexOf(b.label.toLowerCase())),
    cartAssessed,
    cartCount,
    cartPercent: cartAssessed ? sumOfPercents(cart) : null,
    // Null with no white cell counted (wilson95 of n = 0).
    cartPercentCi95: cartAssessed ? wilson95(cartCount, counted) : null,
    // Added up from the rounded rows, as cartPercent is: the printed rows and this line agree.
    lymphocytePercent: sumOfPercents(rows.filter((r) => CART_LABEL.test(r.label) || r.label.toLowerCase() === "lymphocyte")),
    cartPercentOfLymphocytes: !cartAssessed || lymphocytes === 0 ? null : round1((100 * cartCount) / lymphocytes),
    nrbcPer100Wbc: counted === 0 ? null : per100([...excluded].filter(([l]) => l.toLowerCase() === "erythroblast").reduce((s, [, n]) => s + n, 0)),
    belowMinimum: counted < MIN_WHITE_CELLS,
  };
}
