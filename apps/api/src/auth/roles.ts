import type { Role } from "@rcmnet/db";

export const ALL_ROLES: readonly Role[] = ["ADMIN", "HEMATOLOGIST", "TECHNICIAN", "DATA_SCIENTIST", "AUDITOR"];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ALL_ROLES as readonly string[]).includes(value);
}

/** Roles that may read cases, slides, cells and their images. */
export const CASE_READERS: readonly Role[] = ["ADMIN", "HEMATOLOGIST", "TECHNICIAN", "DATA_SCIENTIST", "AUDITOR"];
/** Roles that may see Case.patientRef (the link to the hospital record). */
export const PATIENT_REF_READERS: readonly Role[] = ["HEMATOLOGIST", "TECHNICIAN", "AUDITOR"];
export const AUDIT_READERS: readonly Role[] = ["AUDITOR", "ADMIN"];
