"use client";
// The case's details, editable until sign-off: beside the uploads for the technician (the white-cell
// count, for one, often arrives from the analyser after the smear), and on the review page for the
// hematologist during an amendment, when the next signed version will hold them. Every change
// needs a reason (audited).
import { type FormEvent, useEffect, useRef, useState } from "react";
import { SpecimenField } from "@/components/SpecimenField";
import { ErrorBox, formatDateTime } from "@/components/ui";
import { describeError } from "@/lib/errors";
import { isoFromLocalInput, localInputFromIso } from "@/lib/format";
import { gql } from "@/lib/gql";
import { type CaseDetailsFields, isSigned } from "@/lib/caseDetails";
import { UPDATE_CASE } from "@/lib/operations";

/** `lockedNote`: why this user may not edit them now (a case being amended is a hematologist's to change). */
export function CaseDetails({ value, onSaved, lockedNote = null }: { value: CaseDetailsFields; onSaved: () => void; lockedNote?: string | null }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  // The button pressed is replaced by the form and back (WCAG 2.4.3): focus follows, to the form's
  // first field and then back to "Edit details…", rather than dropping to the page.
  const firstField = useRef<HTMLInputElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const switched = useRef(false);
  useEffect(() => {
    if (!switched.current) return;
    switched.current = false;
    (editing ? firstField.current : editButton.current)?.focus();
  }, [editing]);
  const setEditingFocused = (on: boolean) => {
    switched.current = true;
    setEditing(on);
  };

  async function save(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (saving) return;
    const f = new FormData(e.currentTarget);
    const text = (k: string) => String(f.get(k) ?? "").trim() || null;
    const collected = text("collectedAt");
    setSaving(true);
    setError(null);
    const edited: Record<string, unknown> = {
      priority: text("priority"),
      product: text("product"),
      timepoint: text("timepoint"),
      specimen: text("specimen"),
      // An unreadable time is sent as it is, for the API to refuse by name.
      collectedAt: collected ? (isoFromLocalInput(collected) ?? collected) : null,
      wbcCount: text("wbcCount") === null ? null : Number(text("wbcCount")),
    };
    // Only what this form changed: a field left as loaded is not written back.
    const changed = Object.fromEntries(Object.entries(edited).filter(([k, v]) => v !== value[k as keyof CaseDetailsFields]));
    try {
      await gql(UPDATE_CASE, {
        input: { id: value.id, ...changed, expectedUpdatedAt: value.updatedAt, reason: String(f.get("reason") ?? "") },
      });
      setEditingFocused(false);
      onSaved();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSaving(false);
    }
  }

  if (!editing) {
    return (
      <div className="row muted" data-testid="case-details">
        <span>Product: {value.product ?? "—"}</span>
        <span>Timepoint: {value.timepoint ?? "—"}</span>
        <span>Specimen: {value.specimen ?? "—"}</span>
        <span>Collected: {value.collectedAt ? formatDateTime(value.collectedAt) : "—"}</span>
        <span data-testid="case-details-wbc">WBC: {value.wbcCount !== null ? `${value.wbcCount} ×10⁹/L` : "not recorded"}</span>
        {!isSigned(value.status) && lockedNote && <span data-testid="case-details-locked">{lockedNote}</span>}
        {!isSigned(value.status) && !lockedNote && (
          <button type="button" ref={editButton} onClick={() => setEditingFocused(true)} data-testid="edit-case-details">
            Edit details…
          </button>
        )}
      </div>
    );
  }
  return (
    <form onSubmit={save} aria-label="Edit the case details" data-testid="case-details-form">
      <div className="row">
        <label>
          CAR-T product
          <input name="product" ref={firstField} defaultValue={value.product ?? ""} maxLength={100} />
        </label>
        <label>
          Timepoint
          <input name="timepoint" defaultValue={value.timepoint ?? ""} maxLength={50} />
        </label>
        <SpecimenField defaultValue={value.specimen ?? ""} />
        <label>
          Collected (your local time)
          <input name="collectedAt" type="datetime-local" defaultValue={localInputFromIso(value.collectedAt)} />
        </label>
        <label>
          WBC count (×10⁹/L)
          <input name="wbcCount" type="number" step="any" min="0.01" max="1000" defaultValue={value.wbcCount ?? ""} data-testid="edit-wbc-input" />
        </label>
        <label>
          Priority
          <select name="priority" defaultValue={value.priority}>
            <option>ROUTINE</option>
            <option>URGENT</option>
            <option>STAT</option>
          </select>
        </label>
      </div>
      <div className="row">
        <label style={{ flex: 1 }}>
          Reason for the change (audited)
          <input name="reason" required minLength={3} maxLength={1000} placeholder="e.g. WBC count from the analyser" data-testid="edit-reason-input" />
        </label>
        <button className="primary" type="submit" disabled={saving} data-testid="save-case-details">
          Save
        </button>
        <button type="button" onClick={() => setEditingFocused(false)} disabled={saving}>
          Cancel
        </button>
      </div>
      <ErrorBox error={error} testId="case-details-error" />
    </form>
  );
}
