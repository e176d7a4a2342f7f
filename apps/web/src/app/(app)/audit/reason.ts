import type { AuditEventRow } from "@/lib/operations";
import { WITHHELD } from "@/lib/patientRef";

/**
 * The audit page's reason cell. A reason the API withholds from the reader's role (a void's, an
 * amendment's, a case edit's, a cell decision's: they may name a patient) is said to be withheld:
 * a blank would read as an edit made without saying why. The API decides which
 * (reasonWithheld); an event with no reason stays blank.
 */
export function reasonText(row: Pick<AuditEventRow, "reason" | "reasonWithheld">): string {
  return row.reasonWithheld ? WITHHELD : (row.reason ?? "");
}
