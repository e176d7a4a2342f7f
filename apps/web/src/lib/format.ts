// Formatters shared by server and client components (no "use client": server pages call them).
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  // ISO-like, unambiguous across locales, with the UTC offset written out (21 CFR 11.50: date and time).
  return Number.isNaN(d.getTime()) ? "—" : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/**
 * A datetime-local field's value ("2026-11-26T14:30") read as UTC, the zone every time on the
 * audit page and in its export is written in; null when it is not a time.
 */
export function utcFromInput(value: string): string | null {
  const d = new Date(`${value.trim()}Z`);
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value.trim()) && !Number.isNaN(d.getTime()) ? d.toISOString() : null;
}

/**
 * A datetime-local field's value ("2026-11-20T08:30") read in the browser's own zone, as a
 * person types the time on a tube, to ISO-8601 UTC; null when it does not parse.
 */
export function isoFromLocalInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value.trim())) return null;
  const d = new Date(value.trim()); // no zone in the string: JavaScript reads it as local time
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** The reverse, to fill a datetime-local field: an ISO time shown in the browser's zone. */
export function localInputFromIso(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
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

/**
 * A share of `count` cells as printed: "<0.1%" where cells were counted but the share rounds to
 * 0.0%, which would read as none (one CAR-T cell among 2,000 white cells is persistence, not absence).
 */
export function share(v: number | null | undefined, count: number): string {
  return v === 0 && count > 0 ? "<0.1%" : percent(v);
}

/**
 * " (95% CI 2.1%–9.8%)" after a figure, each bound written by `show`, then `after` (a unit, what
 * the interval covers); nothing without an interval.
 */
export function intervalText(ci: readonly [number, number] | null, show: (n: number) => string, after = ""): string {
  return ci ? ` (95% CI ${show(ci[0])}–${show(ci[1])}${after})` : "";
}

/** After an absolute count's interval: its unit, and that it covers the cell count's error only, not the analyser's WBC. */
export const ABSOLUTE_CI_NOTE = " cells/µL, from the cell count's error only";

/** A count of cells as the report and the review page write it: 1,800. */
export const cellCount = (n: number): string => n.toLocaleString("en");

