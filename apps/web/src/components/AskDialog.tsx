"use client";
// In-page replacement for window.prompt and window.confirm: a modal form that takes one
// required answer, such as a reason for the audit trail or a new password, or only a yes.
// The browser's prompt showed a password in clear text, could not enforce a minimum length,
// and looks like a phishing box in a clinical application. `ask` resolves to the answer, or null when cancelled
// (Escape, backdrop or Cancel); a yes-only question resolves to "".
// Given the action to run with the answer, the dialog stays open while it runs and shows a
// refusal in itself, what was typed intact: a reason of several sentences is not lost to a record
// signed or changed meanwhile (askSession.ts holds the rules).
import { type ReactNode, useEffect, useId, useRef, useState } from "react";
import { newPasswordProblem } from "@/lib/newPassword";
import { type AnswerRun, type AskSession, createAskSession, type Draft, type OpenQuestion } from "./askSession";
import { Modal } from "./Modal";

export type { AnswerOutcome, AnswerRun } from "./askSession";

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
  /** The answer field's text to start from (a reason typed before and asked again); not for a password. */
  initial?: string;
}

/**
 * `testId`: the dialog element's, for a page with two askers (the review page's images panel and
 * its workspace): each dialog element is always in the page, so they need names of their own.
 * `ask(question, run)`: `run` acts on the answer (usually `(answer) => act(...)` from useAction)
 * while the dialog stays open; a question asked from inside `run` is shown over this one.
 */
export function useAsk({ testId = "ask-dialog" }: { testId?: string } = {}): {
  ask: (options: AskOptions, run?: AnswerRun) => Promise<string | null>;
  dialog: ReactNode;
} {
  const [questions, setQuestions] = useState<OpenQuestion<AskOptions>[]>([]);
  // Made once, outside React state: resolving a promise is a side effect, which must not happen
  // inside a state updater (StrictMode runs those twice).
  const session = useRef<AskSession<AskOptions> | null>(null);
  session.current ??= createAskSession<AskOptions>(setQuestions);
  const { ask, answer, cancel, keepDraft } = session.current;
  // Only the question on top is shown: one under it (its answer running) comes back when it goes.
  const shown = questions.at(-1);
  const dialog = (
    <Modal
      open={shown !== undefined}
      onClose={() => shown && cancel(shown.id)}
      label={shown?.options.title ?? "Question"}
      testId={testId}
    >
      {/* Keyed by question: a second question right after the first starts with an empty field. */}
      {shown && (
        <AskForm
          key={shown.id}
          question={shown}
          onCancel={() => cancel(shown.id)}
          onAnswer={(a) => void answer(shown.id, a)}
          onDraft={(draft) => keepDraft(shown.id, draft)}
        />
      )}
    </Modal>
  );
  return { ask, dialog };
}

/** Exported for its test; pages use useAsk. */
export function AskForm({
  question,
  onCancel,
  onAnswer,
  onDraft,
}: {
  question: OpenQuestion<AskOptions>;
  onCancel: () => void;
  onAnswer: (answer: string) => void;
  onDraft: (draft: Draft) => void;
}) {
  const { options, running, refusal } = question;
  const [value, setValueState] = useState(question.draft?.value ?? options.initial ?? "");
  const [again, setAgainState] = useState(question.draft?.again ?? "");
  const setValue = (v: string) => {
    setValueState(v);
    onDraft({ value: v, again });
  };
  const setAgain = (v: string) => {
    setAgainState(v);
    onDraft({ value, again: v });
  };
  const form = useRef<HTMLFormElement>(null);
  // Back in an open dialog (a follow-up answered, a question replaced) or refused: the submit that
  // had focus was held, which drops focus to the page; it goes to the field to correct (Modal
  // gives it when the dialog opens, so only an open one is served here). WCAG 2.4.3.
  // biome-ignore lint/correctness/useExhaustiveDependencies: refusal is the trigger (a new refusal), not a value read
  useEffect(() => {
    if (running || !form.current?.closest("dialog")?.open) return;
    form.current.querySelector<HTMLElement>("[data-autofocus]")?.focus();
  }, [running, refusal]);
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
      ref={form}
      aria-busy={running || undefined}
      onSubmit={(e) => {
        e.preventDefault();
        if (valid && !running) onAnswer(answer);
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
            readOnly={running}
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
            readOnly={running}
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
            readOnly={running}
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
      {/* The API's refusal of this answer, where the answer still is: corrected and sent again, or cancelled. */}
      {refusal && (
        <p className="error" role="alert" data-testid="ask-error">
          {refusal}
        </p>
      )}
      <div className="row" style={{ marginTop: "0.75rem", justifyContent: "flex-end" }}>
        {/* A question with nothing to type (confirming a whole gallery group) starts on Cancel:
            Enter is the review page's confirm key, and a reflexive press must not accept the group.
            Held while the answer runs: what is sent cannot be taken back by it. */}
        <button type="button" onClick={onCancel} disabled={running} data-testid="ask-cancel" data-autofocus={options.confirmOnly ? "" : undefined}>
          {options.dismiss ?? "Cancel"}
        </button>
        <button className="primary" type="submit" disabled={!valid || running} aria-busy={running || undefined} data-testid="ask-submit">
          {options.confirm ?? "Confirm"}
        </button>
      </div>
    </form>
  );
}
