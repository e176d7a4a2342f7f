// The case-details editor while the case moves under it: the analysis finishing, or someone
// else's edit, changes the case's updatedAt, which a save is checked against (CONFLICT). What
// the editor tells the user then, and which of its fields follow the details loaded again.
import { type CaseDetailsFields, isSigned } from "./caseDetails";
import { formatDateTime, localInputFromIso } from "./format";

/** The fields the editor changes, by the names its inputs have. */
export const EDITABLE_FIELDS = ["product", "timepoint", "specimen", "collectedAt", "wbcCount", "priority"] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

const FIELD_NAME: Record<EditableField, string> = {
  product: "CAR-T product",
  timepoint: "timepoint",
  specimen: "specimen",
  collectedAt: "collected",
  wbcCount: "WBC count",
  priority: "priority",
};

/** A field's value as the editor's input holds it (a datetime-local field in the browser's zone). */
export function fieldText(v: CaseDetailsFields, field: EditableField): string {
  if (field === "collectedAt") return localInputFromIso(v.collectedAt);
  const x = v[field];
  return x === null || x === undefined ? "" : String(x);
}

function sameTime(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return a === b || new Date(a).getTime() === new Date(b).getTime();
}

/** The editable fields whose values differ between two loads of the case. */
export function changedFields(before: CaseDetailsFields, after: CaseDetailsFields): EditableField[] {
  return EDITABLE_FIELDS.filter((f) => (f === "collectedAt" ? !sameTime(before.collectedAt, after.collectedAt) : before[f] !== after[f]));
}

function shown(v: CaseDetailsFields, field: EditableField): string {
  if (field === "collectedAt") return v.collectedAt ? formatDateTime(v.collectedAt) : "—";
  if (field === "wbcCount") return v.wbcCount === null ? "not recorded" : `${v.wbcCount} ×10⁹/L`;
  return v[field] ?? "—";
}

const ANALYSED_FROM = new Set(["RECEIVED", "ANALYZING"]);

function statusChange(from: string, to: string): string | null {
  if (from === to) return null;
  if (isSigned(to)) return "it was signed out";
  if (isSigned(from)) return "an amendment was started";
  if (to === "IN_REVIEW" && ANALYSED_FROM.has(from)) return "analysis finished";
  if (to === "ANALYZING") return "images were added and are being analysed";
  return `status ${from.replace("_", " ")} → ${to.replace("_", " ")}`;
}

/** What changed between two loads of the case, in words ("analysis finished; timepoint: day +7 → day +8"). */
export function describeChange(before: CaseDetailsFields, after: CaseDetailsFields): string {
  const parts = [statusChange(before.status, after.status), ...changedFields(before, after).map((f) => `${FIELD_NAME[f]}: ${shown(before, f)} → ${shown(after, f)}`)];
  const said = parts.filter((p): p is string => p !== null);
  // updatedAt moved for something the editor does not show (an image voided, for one).
  return said.length ? said.join("; ") : "not in these details";
}

/**
 * The editor's note when a save was not made because the case changed since the form was
 * filled in: what changed, and that what was typed is kept for the user to check and save again.
 */
export function changedMeanwhileMessage(before: CaseDetailsFields, after: CaseDetailsFields): string {
  const what = describeChange(before, after);
  if (isSigned(after.status)) return `The case changed meanwhile (${what}); nothing was saved: a signed case's details change only in an amendment.`;
  return `The case changed meanwhile (${what}); your entries are kept — check them and save again.`;
}

/**
 * The details were loaded again under an open form: each field still showing what was loaded
 * before takes the new value; a field typed into keeps what was typed. Returns the fields to set.
 */
export function followLoaded(
  inForm: Readonly<Partial<Record<EditableField, string>>>,
  before: CaseDetailsFields,
  after: CaseDetailsFields,
): Partial<Record<EditableField, string>> {
  const set: Partial<Record<EditableField, string>> = {};
  for (const f of EDITABLE_FIELDS) {
    const was = fieldText(before, f);
    const now = fieldText(after, f);
    if (was !== now && inForm[f] === was) set[f] = now;
  }
  return set;
}
