// before -> after for an audit row (21 CFR 11.10(e): previously recorded information stays
// visible next to the change). Every key is listed, the changed ones first: a value that did not
// change is often what the event is about (the label a cell.confirm confirmed).
function show(v: unknown): string {
  if (v === undefined) return "∅";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

export interface DiffEntry {
  key: string;
  before: string;
  after: string;
  changed: boolean;
}

export function diffEntries(before: unknown, after: unknown): DiffEntry[] {
  const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === "object" && !Array.isArray(x);
  if (!isObj(before) && !isObj(after)) {
    if (before === undefined && after === undefined) return [];
    if (before === null && after === null) return [];
    const b = show(before ?? undefined);
    const a = show(after ?? undefined);
    return [{ key: "value", before: b, after: a, changed: b !== a }];
  }
  const b = isObj(before) ? before : {};
  const a = isObj(after) ? after : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  const entries = keys.map((k) => ({ key: k, before: show(b[k]), after: show(a[k]), changed: show(b[k]) !== show(a[k]) }));
  return [...entries.filter((e) => e.changed), ...entries.filter((e) => !e.changed)];
}
