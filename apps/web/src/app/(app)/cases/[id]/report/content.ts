// The signed content is JSON written by the API at sign-off. Read it defensively: a report
// must render even if the content's shape grows over versions.

export interface ReportContent {
  rows: { label: string; count: number; percent: number | null }[];
  total: number | null;
  counted: number | null;
  modelVersions: string[];
  corrections: number | null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function readReportContent(raw: unknown): ReportContent {
  const c = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const diff = (c.differential && typeof c.differential === "object" ? c.differential : c) as Record<string, unknown>;
  const rowsRaw = Array.isArray(diff.rows) ? diff.rows : Array.isArray(c.counts) ? c.counts : [];
  const excluded = new Set(["artifact"]);
  const rows = rowsRaw.flatMap((r) => {
    const o = (r ?? {}) as Record<string, unknown>;
    if (typeof o.label !== "string") return [];
    const count = num(o.count) ?? 0;
    return [{ label: o.label, count, percent: excluded.has(o.label) ? null : num(o.percent) }];
  });
  const mvRaw = Array.isArray(c.modelVersions) ? c.modelVersions : [];
  const modelVersions = mvRaw.flatMap((m) => {
    if (typeof m === "string") return [m];
    const o = (m ?? {}) as Record<string, unknown>;
    const name = [o.name, o.version].filter((x) => typeof x === "string").join(" ");
    return name ? [name] : typeof o.id === "string" ? [o.id] : [];
  });
  return {
    rows,
    total: num(diff.total) ?? num(c.cellCount),
    counted: num(diff.counted),
    modelVersions,
    corrections: num(c.reclassifiedCount) ?? num(c.corrections),
  };
}
