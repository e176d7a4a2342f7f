// What a printout of a signed report says about itself, beside the signed content: a paper copy
// leaves the system, and its reader cannot see that a newer version is on its way.
import { formatDateTime } from "@/lib/format";

/**
 * The one line a printout of version `reportVersion` carries while an amendment of it is open
 * (`since`: when it was started, null if unknown); null when none is open.
 */
export function amendmentInProgressLine(amending: boolean, since: string | null): string | null {
  if (!amending) return null;
  return `An amendment of this report is in progress${since ? ` (since ${formatDateTime(since)})` : ""}: a newer version may replace this one.`;
}

/** "Printed at 2026-11-27 08:30:00 UTC by Dr Ada Lovelace (alovelace)": who held the paper copy, and when. */
export function printedLine(at: Date, name: string, login: string): string {
  return `Printed at ${formatDateTime(at.toISOString())} by ${name} (${login})`;
}
