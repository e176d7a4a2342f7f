// The patient reference as the review page, the sign-off dialog and the report print it.
import { PATIENT_REF_READERS } from "@rcmnet/api/roles";

/**
 * Whether the role may see patient references and the free text that may name a patient (a
 * morphology comment, an amendment's reason): the API answers null for the others, so only the
 * role tells "withheld" from "none". An unknown role may not (fails closed).
 */
export function seesPatientData(role: string): boolean {
  return (PATIENT_REF_READERS as readonly string[]).includes(role);
}

/** What the report prints for a part of a signed report the API withholds from the reader's role. */
export const WITHHELD = "withheld for your role";

/**
 * What to print for a case's patient reference: the reference, "not recorded" when the case has
 * none (a signer must see that rather than a missing line), and null for roles the API withholds
 * it from (it answers null for them too, so only the role tells "hidden" from "empty").
 */
export function patientRefText(role: string, ref: string | null | undefined): string | null {
  if (!seesPatientData(role)) return null;
  const trimmed = ref?.trim();
  return trimmed ? trimmed : "not recorded";
}
