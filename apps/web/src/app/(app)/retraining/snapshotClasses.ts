// A snapshot's cells per class and part, as the retraining page lists them: a class with a
// handful of TEST cells gives a recall that can swing by tens of points on one cell, and one
// absent from TRAIN cannot be learned; both must be seen before a run is started on it.

export type PartCounts = { TRAIN: number; VAL: number; TEST: number };

/** Fewer TEST cells than this: the class's TEST recall says little (one cell moves it ≥ 10 points). */
export const FEW_TEST_CELLS = 10;

export interface ClassRow {
  label: string;
  train: number;
  val: number;
  test: number;
  /** What a data scientist should know before training or comparing on it, or null. */
  warning: string | null;
}

function countsOf(raw: unknown): PartCounts {
  const r = (raw && typeof raw === "object" ? raw : {}) as Partial<Record<keyof PartCounts, unknown>>;
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
  return { TRAIN: n(r.TRAIN), VAL: n(r.VAL), TEST: n(r.TEST) };
}

/**
 * One row per class of the snapshot's label set (in its order), then any other label found in the
 * counts; `labelCounts` is the API's JSON `{ label: { TRAIN, VAL, TEST } }`, read defensively.
 */
export function classRows(labels: readonly string[], labelCounts: unknown): ClassRow[] {
  const counts = (labelCounts && typeof labelCounts === "object" ? labelCounts : {}) as Record<string, unknown>;
  const order = [...labels, ...Object.keys(counts).filter((l) => !labels.includes(l)).sort()];
  return order.map((label) => {
    const c = countsOf(counts[label]);
    const warning =
      c.TRAIN === 0
        ? "no training cells: cannot be learned from this snapshot"
        : c.TEST === 0
          ? "no test cells: untested"
          : c.TEST < FEW_TEST_CELLS
            ? `only ${c.TEST} test cell${c.TEST === 1 ? "" : "s"}: its recall is imprecise`
            : null;
    return { label, train: c.TRAIN, val: c.VAL, test: c.TEST, warning };
  });
}
