// Audit snapshots keep the full row (21 CFR 11.10(e)), Case.patientRef included. Readers of the
// trail that may not see patient references (ADMIN) get those keys nulled on the way out, and the
// specimen's collection time with them (a date tied to the patient); the stored event and its
// hash are untouched.
import type { Role } from "@rcmnet/db";
import { canSeePatientRef } from "../cases/caseRules.ts";

export const PATIENT_KEYS = new Set(["patientRef", "collectedAt"]);

export function redactAuditJson(value: unknown, role: Role | null | undefined): unknown {
  if (role && canSeePatientRef(role)) return value;
  return redact(value);
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = PATIENT_KEYS.has(k) ? (v == null ? v : null) : redact(v);
  return out;
}
