// A signed report as its reader receives it. Roles that may not see patient references get the
// content with the reference, the collection time, voided images' reasons and the hashes over
// them nulled (redactAuditJson), and the free text that may name a patient (the morphology
// comment, the amendment's reason, each cell's review reason) with them; the stored content and
// its hash are untouched.
// A null is then ambiguous (none signed, or withheld), so `withheldFields` names what was nulled:
// the report says "withheld for your role" exactly there, and nothing where nothing was signed.
import type { Role } from "@rcmnet/db";
import { redactAuditJson } from "../audit/redact.ts";
import { canSeePatientRef } from "../cases/caseRules.ts";

/** Free text signed with a report (keys of its content), withheld with the patient reference. */
const SIGNED_FREE_TEXT = ["comment", "amendmentReason"] as const;
/** Free text signed with each of its cells (keys of `cells[]`): the reason of the decision in force. */
const SIGNED_CELL_FREE_TEXT = ["reason"] as const;

/** The signed content as `role` may read it (null where signed, absent where not: the shape stays as signed). */
export function signedContentFor(stored: unknown, role: Role | null | undefined): unknown {
  const content = redactAuditJson(stored, role);
  // Free text signed with a report may name a patient: shown to the roles that see patient references.
  if (canSeePatientRef(role) || !isObject(content)) return content;
  const out: Record<string, unknown> = { ...content };
  for (const key of SIGNED_FREE_TEXT) if (key in out) out[key] = null;
  if (Array.isArray(out.cells)) out.cells = out.cells.map((cell: unknown) => (isObject(cell) ? withoutKeys(cell, SIGNED_CELL_FREE_TEXT) : cell));
  return out;
}

/** `obj` with those of `keys` it has set to null (absent ones stay absent: the shape stays as signed). */
function withoutKeys(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out = { ...obj };
  for (const key of keys) if (key in out) out[key] = null;
  return out;
}

/**
 * The content fields that held a value as signed and reach this reader as null, by name only
 * ("case.patientRef", "comment", "slides[].voided.reason", "cells[].reason": an array's elements
 * share one name),
 * sorted; empty for roles that read the content as signed.
 */
export function withheldFields(stored: unknown, role: Role | null | undefined): string[] {
  const names = new Set<string>();
  collect(stored, signedContentFor(stored, role), "", names);
  return [...names].sort();
}

function collect(stored: unknown, shown: unknown, path: string, names: Set<string>): void {
  if (stored === null || stored === undefined) return;
  if (shown === null) {
    names.add(path);
    return;
  }
  if (Array.isArray(stored)) {
    if (Array.isArray(shown)) stored.forEach((v, i) => collect(v, shown[i], `${path}[]`, names));
    return;
  }
  if (isObject(stored) && isObject(shown)) {
    for (const [key, value] of Object.entries(stored)) collect(value, shown[key], path ? `${path}.${key}` : key, names);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
