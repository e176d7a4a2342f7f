// What a model called each TEST item, kept with its evaluation: two models scored on the same
// cells are compared cell by cell (paired: modules/models/pairedComparison.ts), which counts
// alone cannot do. Stored compactly, in the snapshot's TEST order (cellId ascending, the order
// every evaluation reads them in): one character per item for the true label and one for the
// call, codes into a table of label names, and the sha256 of the ordered cell ids, which says
// which items the characters belong to without listing them (a cell id is 36 characters). About
// 2 bytes per item. Measured for 5,000 random cells of 8 classes (PostgreSQL 15 jsonb): 10.2 kB of
// JSON, 6.9 kB as stored (compressed); the calls alone as a jsonb array of label names would be
// 60 kB (9.6 kB stored), as one of numbers 60 kB too (7.5 kB stored), each number a jsonb numeric.
import { createHash } from "node:crypto";

/** The record's shape: stored in model_version.metrics.evaluations[snapshotId].items. */
export interface ItemCalls {
  /** Format of this record: readers refuse one they do not know. */
  format: 1;
  /** sha256 (hex) of the items' cell ids in order, each followed by "\n" (itemOrderSha256). */
  itemsSha256: string;
  /** Code k (k >= 1) stands for labels[k - 1]; code 0 for "abstained" (calls only). */
  labels: string[];
  /** Characters per code: 1 while the table has at most 63 labels, 2 up to 4,095, and so on. */
  width: number;
  /** The true label of each item, `width` characters each, in order. */
  truth: string;
  /** What the model called each item (code 0: it abstained), in order. */
  called: string;
}

/** An ItemCalls record read back: one entry per item. */
export interface DecodedCalls {
  itemsSha256: string;
  truth: string[];
  /** Null where the model abstained. */
  called: (string | null)[];
}

/** 64 symbols, digits first: a short table reads as 0 (abstained), 1, 2, ... */
const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
const VALUE = new Map([...DIGITS].map((ch, i) => [ch, i]));

/** The order's hash: equal for two evaluations exactly when they read the same items in the same order. */
export function itemOrderSha256(ids: readonly string[]): string {
  const hash = createHash("sha256");
  for (const id of ids) hash.update(`${id}\n`);
  return hash.digest("hex");
}

export function encodeItemCalls(
  ids: readonly string[],
  truth: readonly string[],
  predicted: readonly { label: string; abstained: boolean }[],
): ItemCalls {
  if (ids.length !== truth.length || ids.length !== predicted.length) throw new Error("encodeItemCalls: length mismatch");
  const labels = [...new Set([...truth, ...predicted.filter((p) => !p.abstained).map((p) => p.label)])].sort();
  const width = widthFor(labels.length);
  const code = new Map(labels.map((l, i) => [l, symbols(i + 1, width)]));
  return {
    format: 1,
    itemsSha256: itemOrderSha256(ids),
    labels,
    width,
    truth: truth.map((t) => code.get(t)!).join(""),
    called: predicted.map((p) => (p.abstained ? symbols(0, width) : code.get(p.label)!)).join(""),
  };
}

/**
 * A stored record read back, or why not: "absent" (stored before calls were kept) or
 * "unreadable" (not a record this code wrote: an unknown format, a code outside the table,
 * lengths that disagree). Never a guess: a wrong row would pair the wrong cells.
 */
export function decodeItemCalls(raw: unknown): DecodedCalls | "absent" | "unreadable" {
  if (raw === undefined || raw === null) return "absent";
  if (typeof raw !== "object" || Array.isArray(raw)) return "unreadable";
  const r = raw as Partial<Record<keyof ItemCalls, unknown>>;
  if (r.format !== 1 || typeof r.itemsSha256 !== "string" || !/^[0-9a-f]{64}$/.test(r.itemsSha256)) return "unreadable";
  if (!Array.isArray(r.labels) || !r.labels.every((l) => typeof l === "string")) return "unreadable";
  const labels = r.labels as string[];
  if (r.width !== widthFor(labels.length) || typeof r.truth !== "string" || typeof r.called !== "string") return "unreadable";
  const width = r.width;
  if (r.truth.length !== r.called.length || r.truth.length % width !== 0) return "unreadable";
  const decode = (text: string, abstainedAllowed: boolean): (string | null)[] | null => {
    const out: (string | null)[] = [];
    for (let i = 0; i < text.length; i += width) {
      let v = 0;
      for (const ch of text.slice(i, i + width)) {
        const d = VALUE.get(ch);
        if (d === undefined) return null;
        v = v * DIGITS.length + d;
      }
      if (v > labels.length || (v === 0 && !abstainedAllowed)) return null;
      out.push(v === 0 ? null : labels[v - 1]!);
    }
    return out;
  };
  const truth = decode(r.truth, false);
  const called = decode(r.called, true);
  if (!truth || !called) return "unreadable";
  return { itemsSha256: r.itemsSha256, truth: truth as string[], called };
}

/** Characters needed for codes 0..n (n labels and "abstained"). */
function widthFor(n: number): number {
  let width = 1;
  while (DIGITS.length ** width <= n) width++;
  return width;
}

function symbols(value: number, width: number): string {
  let out = "";
  for (let i = 0; i < width; i++) {
    out = DIGITS[value % DIGITS.length]! + out;
    value = Math.floor(value / DIGITS.length);
  }
  return out;
}
