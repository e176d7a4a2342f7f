// Formatters shared by server and client components (no "use client": server pages call them).
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  // ISO-like, unambiguous across locales, with the UTC offset written out (21 CFR 11.50: date and time).
  return Number.isNaN(d.getTime()) ? "—" : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/**
 * A fraction as a threshold reads: 0.8 → "80%", 0.855 → "85.5%" (whole percents without ".0").
 * Beside `percent`, which takes a value already in percent.
 */
export function thresholdPercent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

export function percent(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : `${v.toFixed(digits)}%`;
}
