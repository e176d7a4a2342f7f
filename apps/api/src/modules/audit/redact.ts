// Audit snapshots keep the full row (21 CFR 11.10(e)), Case.patientRef included. Readers of the
// trail that may not see patient references (ADMIN) get those keys nulled on the way out, and the
// specimen's collection time with them (a date tied to the patient); the stored event and its
// hash are untouched.
import type { Role } from "@rcmnet/db";
import { canSeePatientRef } from "../cases/caseRules.ts";

/**
 * `voidReason`: why an image was voided, free text typed when an image is found to be another
 * patient's ("belongs to MRN-4411"), so as patient-revealing as the reference itself.
 * `originalName`: an uploaded file's name, which scanners and people often make the patient's
 * name or number ("Smith_J_MRN4411_field3.jpg").
 */
export const PATIENT_KEYS = new Set(["patientRef", "collectedAt", "voidReason", "originalName"]);
/**
 * Audit actions whose `reason` is free text about a case that may name its patient, withheld with
 * the patient keys: a void's ("belongs to MRN-4411"), an amendment's ("smear belongs to
 * MRN-4411", also signed as the next version's `amendmentReason`), a case edit's ("patientRef
 * corrected from MRN-…") and a cell decision's, one by one or with others (`cell.reclassify`,
 * `cell.confirm`: the reason typed beside the label, also `Review.reason` and the signed
 * report's `cells[].reason`). The review actions are all here: a decision is never reversed, only
 * followed by another one (a new review, one of these events).
 */
export const PATIENT_REASON_ACTIONS: ReadonlySet<string> = new Set(["slide.void", "case.amend", "case.update", "cell.reclassify", "cell.confirm"]);
/**
 * Hashes kept inside records that may cover a patient reference: a signed report's hash (in the
 * sign-off's audit event, in an amendment's `supersedes`) and the audit chain head it anchors; an
 * uploaded file's hash as received (`slide.upload`), over metadata that may name the patient,
 * whose pixels the reader can fetch. Nulled with the patient keys, for the reason hashFor gives.
 */
export const HASH_KEYS = new Set(["contentSha256", "hash", "receivedSha256"]);

/**
 * A hash for a reader: null for roles that may not see patient references. A sha256 over a record
 * that held a patient reference (a signed report, an audit snapshot, and through prevHash every
 * link after one) lets anyone who can read the rest of the record test candidate references,
 * which are short and structured (MRN-12345), until one matches: redacting the field and showing
 * the hash would undo the redaction. Those roles verify through the server (verifyAuditTrail,
 * verifySignOff's ok), which they cannot do themselves over redacted records anyway.
 */
export function hashFor(hash: string | null, role: Role | null | undefined): string | null {
  return canSeePatientRef(role) ? hash : null;
}

export function redactAuditJson(value: unknown, role: Role | null | undefined): unknown {
  if (canSeePatientRef(role)) return value;
  return redact(value);
}

/**
 * Whether an event has a reason this reader is not shown: one of PATIENT_REASON_ACTIONS' (a void's,
 * an amendment's, a case edit's, a cell decision's), to a role that may not see patient
 * references. Said apart from the null reason: most of these actions require one, and a blank
 * would read as an edit made without saying why.
 */
export function reasonWithheld(action: string, reason: string | null, role: Role | null | undefined): boolean {
  return reason !== null && PATIENT_REASON_ACTIONS.has(action) && !canSeePatientRef(role);
}

/** An audit event's reason for a reader: null where reasonWithheld. */
export function reasonFor(action: string, reason: string | null, role: Role | null | undefined): string | null {
  return reasonWithheld(action, reason, role) ? null : reason;
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = PATIENT_KEYS.has(k) || (HASH_KEYS.has(k) && typeof v === "string") ? (v == null ? v : null) : redact(v);
  }
  // A signed report's voided image ({ at, byLogin, reason }): the reason is a void's.
  const voided = out.voided;
  if (voided && typeof voided === "object" && !Array.isArray(voided) && "reason" in voided) out.voided = { ...voided, reason: null };
  return out;
}
