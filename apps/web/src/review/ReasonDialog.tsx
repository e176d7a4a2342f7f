"use client";
import { useState } from "react";
import { Modal } from "@/components/Modal";
import { aiShownLabel, overridesAi, type PendingOverride, type ReviewCell } from "./model";
import { isUnidentified } from "@/lib/differential";
import { labelName } from "@/lib/labels";

/**
 * The usual reasons a cell cannot be classified, offered as one click (or Alt+1-4) when a cell is
 * left unidentified: a poor model abstains often, and typing the same words for each is slow.
 */
export const UNIDENTIFIED_REASONS = ["Smudged or damaged cell", "Out of focus", "Overlapping cells", "Cut off at the image edge"] as const;

/**
 * Overriding the AI, or leaving a cell unidentified (out of the white-cell count), is never
 * silent: the reviewer writes why (kept with the review and in the audit trail).
 */
export function ReasonDialog({
  prompt,
  cell,
  onCancel,
  onSubmit,
}: {
  prompt: PendingOverride | null;
  cell: ReviewCell | null;
  onCancel: () => void;
  onSubmit: (reason: string) => void;
}) {
  return (
    <Modal open={prompt !== null} onClose={onCancel} label="Reason for the decision" testId="reason-dialog">
      {/* Keyed by the prompt: a reason typed for one cell and cancelled (Escape included)
          never pre-fills the prompt of another. */}
      {prompt && <ReasonForm key={`${prompt.cellIds.join(",")}:${prompt.label}`} prompt={prompt} cell={cell} onCancel={onCancel} onSubmit={onSubmit} />}
    </Modal>
  );
}

function ReasonForm({
  prompt,
  cell,
  onCancel,
  onSubmit,
}: {
  prompt: PendingOverride;
  cell: ReviewCell | null;
  onCancel: () => void;
  onSubmit: (reason: string) => void;
}) {
  const [reason, setReason] = useState("");
  const trimmed = reason.trim();
  const override = cell === null || overridesAi(cell, prompt.label);
  const leftOut = isUnidentified(prompt.label);
  return (
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!trimmed) return;
          onSubmit(trimmed);
        }}
      >
        <h2 style={{ marginTop: 0 }}>{override ? "Override the AI" : "Leave the cell unidentified"}</h2>
        <p>
          AI said <strong className="badge ai">{cell?.ai ? labelName(aiShownLabel(cell.ai)) : "—"}</strong>; you chose{" "}
          <strong className="badge human">{labelName(prompt.label)}</strong>.
          {leftOut && <span data-testid="reason-left-out"> An unidentified cell is left out of the white-cell count.</span>}
        </p>
        <label style={{ display: "flex" }}>
          Reason (required, recorded in the audit trail; Enter to save, Shift+Enter for a new line)
          <textarea
            data-autofocus
            rows={3}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            // Enter gives the reason, as a reviewer on the keyboard expects; Shift+Enter a new line.
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
                e.preventDefault();
                e.currentTarget.form?.requestSubmit();
              }
              // Alt+1-4: one of the usual reasons for an unidentified cell (e.code: Alt changes e.key on a
              // Mac), only before anything is typed and never with AltGr (Ctrl+Alt on Windows), which
              // types #, @ or { on many layouts: a character must not save a canned reason.
              const plainAlt = e.altKey && !e.ctrlKey && !e.metaKey && !e.getModifierState("AltGraph") && !e.repeat;
              const quick = leftOut && plainAlt && reason === "" ? UNIDENTIFIED_REASONS[Number(/^Digit([1-4])$/.exec(e.code)?.[1] ?? 0) - 1] : undefined;
              if (quick) {
                e.preventDefault();
                onSubmit(quick);
              }
            }}
            required
            maxLength={500}
            data-testid="reason-input"
          />
        </label>
        {leftOut && (
          <fieldset className="row" style={{ marginTop: "0.5rem", border: 0, padding: 0 }}>
            <legend className="muted">Usual reasons</legend>
            {UNIDENTIFIED_REASONS.map((r, i) => (
              // Typed words are what Enter sends: a click must not throw them away.
              <button key={r} type="button" disabled={reason !== ""} onClick={() => onSubmit(r)} title={`Alt+${i + 1}`} data-testid="reason-quick">
                <kbd>Alt+{i + 1}</kbd> {r}
              </button>
            ))}
          </fieldset>
        )}
        <div className="row" style={{ marginTop: "0.75rem", justifyContent: "flex-end" }}>
          <button type="button" onClick={onCancel} data-testid="reason-cancel">
            Cancel
          </button>
          <button className="primary" type="submit" disabled={!trimmed} data-testid="reason-submit">
            {override ? "Reclassify" : "Confirm"}
          </button>
        </div>
      </form>
  );
}
