// before -> after for an audit row: the keys whose value changed (21 CFR 11.10(e): previously
// recorded information stays visible next to the change).
function show(v: unknown): string {
  if (v === undefined) return "∅";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

export function diffEntries(before: unknown, after: unknown): { key: string; before: string; after: string }[] {
  const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === "object" && !Array.isArray(x);
  if (!isObj(before) && !isObj(after)) {
    if (before === undefined && after === undefined) return [];
    if (before === null && after === null) return [];
    return show(before) === show(after) ? [] : [{ key: "value", before: show(before ?? undefined), after: show(after ?? undefined) }];
  }
  const b = isObj(before) ? before : {};
  const a = isObj(after) ? after : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  return keys.filter((k) => show(b[k]) !== show(a[k])).map((k) => ({ key: k, before: show(b[k]), after: show(a[k]) }));
}
