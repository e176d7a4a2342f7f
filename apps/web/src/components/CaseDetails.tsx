"use client";
// The case's details, editable until sign-off: beside the uploads for the technician (the white-cell
// count, for one, often arrives from the analyser after the smear), and on the review page for the
// hematologist during an amendment, when the next signed version will hold them. Every change
// needs a reason (audited).
//
// A save is checked against the case's updatedAt as loaded, which moves with the analysis as well
// as with someone else's edit: refused (CONFLICT), the details are loaded again, the form keeps
// what was typed, and the user is told what changed, to check and save again (never re-sent unseen).
import { type FormEvent, useEffect, useRef, useState } from "react";
import { SpecimenField } from "@/components/SpecimenField";
import { ErrorBox, formatDateTime } from "@/components/ui";
import { ApiError, describeError } from "@/lib/errors";
import { isoFromLocalInput, localInputFromIso } from "@/lib/format";
import { gql } from "@/lib/gql";
import { type CaseDetailsFields, isSigned } from "@/lib/caseDetails";
import { changedFields, changedMeanwhileMessage, EDITABLE_FIELDS, type EditableField, followLoaded } from "@/lib/caseDetailsEdit";
import { UPDATE_CASE } from "@/lib/operations";

/**
 * `onSaved`: the details were saved (both pages load them again). `reload`: loads them again after
 * a save refused because the case changed meanwhile; by default `onSaved`, which does just that.
 * `lockedNote`: why this user may not edit them now (a case being amended is a hematologist's to change).
 */
export function CaseDetails({
  value,
  onSaved,
  reload,
  lockedNote = null,
}: {
  value: CaseDetailsFields;
  onSaved: () => void;
  reload?: () => unknown;
  lockedNote?: string | null;
}) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  // The details as the user last saw them: when the form opened, or when told what changed since.
  // A save over details that changed from these (loaded again under the open form) is not sent.
  const seen = useRef(value);
  // A save refused as CONFLICT: the details it was checked against, until they are loaded again.
  const [refused, setRefused] = useState<CaseDetailsFields | null>(null);
  const [changedNote, setChangedNote] = useState<string | null>(null);
  // Details loaded again while the form is open: fields left as loaded follow them (a select does
  // not follow its defaultValue by itself); what was typed stays.
  const form = useRef<HTMLFormElement>(null);
  const appliedToForm = useRef(value);
  useEffect(() => {
    if (!editing) return;
    const before = appliedToForm.current;
    appliedToForm.current = value;
    const f = form.current;
    if (before === value || !f) return;
    const field = (name: EditableField) => f.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
    const inForm = Object.fromEntries(EDITABLE_FIELDS.map((name) => [name, field(name)?.value ?? ""]));
    for (const [name, text] of Object.entries(followLoaded(inForm, before, value))) {
      const el = field(name as EditableField);
      if (el) el.value = text;
    }
  }, [value, editing]);
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
    if (on) {
      seen.current = value;
      appliedToForm.current = value;
    }
    setError(null);
    setRefused(null);
    setChangedNote(null);
    setEditing(on);
  };

  async function save(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (saving) return;
    const f = new FormData(e.currentTarget);
    const text = (k: string) => String(f.get(k) ?? "").trim() || null;
    const collected = text("collectedAt");
    setError(null);
    // Told what changed (the refusal's note, the details loaded again since): seen now.
    if (refused && refused.updatedAt !== value.updatedAt) seen.current = value;
    setRefused(null);
    setChangedNote(null);
    // Someone else's change to these details, loaded again under the open form (the analysis
    // moving the case on changes none of them): said first, like the API's refusal, not overwritten.
    if (changedFields(seen.current, value).length > 0) {
      setChangedNote(changedMeanwhileMessage(seen.current, value));
      seen.current = value;
      return;
    }
    setSaving(true);
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
      if (err instanceof ApiError && err.code === "CONFLICT") {
        // Loaded again, and said what changed once it is here; what was typed stays in the form.
        setRefused(value);
        (reload ?? onSaved)();
      } else setError(describeError(err));
    } finally {
      setSaving(false);
    }
  }

  const note = refused
    ? refused.updatedAt === value.updatedAt
      ? "The case changed meanwhile: loading it again… Your entries are kept."
      : changedMeanwhileMessage(refused, value)
    : changedNote;

  if (!editing) {
    return (
      <div className="row muted" data-testid="case-details" data-status={value.status}>
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
    <form ref={form} onSubmit={save} aria-label="Edit the case details" data-testid="case-details-form">
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
      {note && (
        <p className="notice" role="alert" data-testid="case-details-changed">
          {note}
        </p>
      )}
      <ErrorBox error={error} testId="case-details-error" />
    </form>
  );
}
