"use client";
// In-page replacement for window.prompt and window.confirm: a modal form that takes one
// required answer, such as a reason for the audit trail or a new password, or only a yes.
// The browser's prompt showed a password in clear text, could not enforce a minimum length,
// and looks like a phishing box in a clinical application. `ask` resolves to the answer, or null when cancelled
// (Escape, backdrop or Cancel); a yes-only question resolves to "".
import { type ReactNode, useCallback, useId, useRef, useState } from "react";
import { newPasswordProblem } from "@/lib/newPassword";
import { Modal } from "./Modal";

const REASON_LABEL = "Reason (required, recorded in the audit trail)";

export interface AskOptions {
  /** The question, as the dialog's heading. */
  title: string;
  /** What the user should know before answering, under the heading. */
  message?: string;
  /** Only Confirm / Cancel, no answer field (resolves to "" when confirmed). */
  confirmOnly?: boolean;
  /** Label of the answer field (default: a reason for the audit trail, the usual question). */
  label?: string;
  /** A new password: masked, kept as typed (not trimmed), and typed twice (a masked typo shows nowhere). */
  password?: boolean;
  minLength?: number;
  /** Text of the confirm button (default "Confirm"). */
  confirm?: string;
  /** Text of the button that answers no (default "Cancel"; say another where the action is itself a cancel). */
  dismiss?: string;
}

interface Pending {
  id: number;
  options: AskOptions;
  resolve: (answer: string | null) => void;
}

/**
 * `testId`: the dialog element's, for a page with two askers (the review page's images panel and
 * its workspace): each dialog element is always in the page, so they need names of their own.
 */
export function useAsk({ testId = "ask-dialog" }: { testId?: string } = {}): { ask: (options: AskOptions) => Promise<string | null>; dialog: ReactNode } {
  const [pending, setPending] = useState<Pending | null>(null);
  // The open question, also outside React state: resolving a promise is a side effect,
  // which must not happen inside a state updater (StrictMode runs those twice).
  const open = useRef<Pending | null>(null);
  const ids = useRef(0);
  const ask = useCallback(
    (options: AskOptions) =>
      new Promise<string | null>((resolve) => {
        // A question still open is answered "cancelled" rather than left hanging.
        open.current?.resolve(null);
        ids.current += 1;
        open.current = { id: ids.current, options, resolve };
        setPending(open.current);
      }),
    [],
  );
  const finish = (answer: string | null) => {
    open.current?.resolve(answer);
    open.current = null;
    setPending(null);
  };
  const dialog = (
    <Modal
      open={pending !== null}
      onClose={() => finish(null)}
      label={pending?.options.title ?? "Question"}
      testId={testId}
    >
      {/* Keyed by question: a second question right after the first starts with an empty field. */}
      {pending && (
        <AskForm key={pending.id} options={pending.options} onCancel={() => finish(null)} onAnswer={finish} />
      )}
    </Modal>
  );
  return { ask, dialog };
}

function AskForm({
  options,
  onCancel,
  onAnswer,
}: {
  options: AskOptions;
  onCancel: () => void;
  onAnswer: (answer: string) => void;
}) {
  const [value, setValue] = useState("");
  const [again, setAgain] = useState("");
  const fieldId = useId();
  const againId = useId();
  const hintId = useId();
  const answer = options.password ? value : value.trim();
  const minLength = options.confirmOnly ? 0 : (options.minLength ?? 1);
  // A password's problem is shown while it holds the submit back; a reason's (empty) needs no words.
  const passwordProblem = options.password ? newPasswordProblem(value, again, minLength) : null;
  const valid = options.password ? passwordProblem === null : answer.length >= minLength;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) onAnswer(answer);
      }}
    >
      <h2 style={{ marginTop: 0 }}>{options.title}</h2>
      {options.message && <p data-testid="ask-message">{options.message}</p>}
      {!options.confirmOnly && (
      <label htmlFor={fieldId} style={{ display: "flex" }}>
        {options.label ?? REASON_LABEL}
        {options.password ? (
          <input
            data-autofocus
            id={fieldId}
            type="password"
            autoComplete="new-password"
            aria-describedby={hintId}
            minLength={minLength}
            required
            value={value}
            onChange={(e) => setValue(e.target.value)}
            data-testid="ask-input"
          />
        ) : (
          <textarea
            data-autofocus
            id={fieldId}
            rows={3}
            maxLength={500}
            required
            value={value}
            onChange={(e) => setValue(e.target.value)}
            data-testid="ask-input"
          />
        )}
      </label>
      )}
      {options.password && (
        <label htmlFor={againId} style={{ display: "flex" }}>
          Type it again
          <input
            id={againId}
            type="password"
            autoComplete="new-password"
            required
            value={again}
            onChange={(e) => setAgain(e.target.value)}
            aria-describedby={hintId}
            data-testid="ask-input-again"
          />
        </label>
      )}
      {/* Always there, so that a screen reader announces each change; empty until a password is typed. */}
      {options.password && (
        <p className="muted" role="status" id={hintId} data-testid="ask-hint">
          {value || again ? passwordProblem : null}
        </p>
      )}
      <div className="row" style={{ marginTop: "0.75rem", justifyContent: "flex-end" }}>
        {/* A question with nothing to type (confirming a whole gallery group) starts on Cancel:
            Enter is the review page's confirm key, and a reflexive press must not accept the group. */}
        <button type="button" onClick={onCancel} data-testid="ask-cancel" data-autofocus={options.confirmOnly ? "" : undefined}>
          {options.dismiss ?? "Cancel"}
        </button>
        <button className="primary" type="submit" disabled={!valid} data-testid="ask-submit">
          {options.confirm ?? "Confirm"}
        </button>
      </div>
    </form>
  );
}
