// The patient reference as the review page, the sign-off dialog and the report print it.
import { PATIENT_REF_READERS } from "@rcmnet/api/roles";

/**
 * What to print for a case's patient reference: the reference, "not recorded" when the case has
 * none (a signer must see that rather than a missing line), and null for roles the API withholds
 * it from (it answers null for them too, so only the role tells "hidden" from "empty").
 */
export function patientRefText(role: string, ref: string | null | undefined): string | null {
  if (!(PATIENT_REF_READERS as readonly string[]).includes(role)) return null;
  const trimmed = ref?.trim();
  return trimmed ? trimmed : "not recorded";
}
