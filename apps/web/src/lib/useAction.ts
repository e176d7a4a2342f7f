"use client";
import { useEffect, useRef, useState } from "react";
import { createActionRunner } from "./actionRunner";

export type { ActOutcome } from "./actionRunner";

let lastFocusedOutsideDialog: HTMLElement | null = null;
if (typeof document !== "undefined") {
  document.addEventListener("focusin", (e) => {
    if (e.target instanceof HTMLElement && !e.target.closest("dialog")) lastFocusedOutsideDialog = e.target;
  });
}

/**
 * A button's action on a page: run it, reload the page's data, and keep what the user must see
 * (the refusal's message, or a confirmation) until the next action. A refusal for a record changed
 * meanwhile (CONFLICT) reloads the data too. `act` resolves to the outcome, for a dialog that
 * stays open until the action is done (useAsk's `ask(question, (answer) => act(...))`).
 */
export function useAction(reload: () => Promise<unknown>) {
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The page's latest reload: pages pass a new function on each render, the runner is made once.
  const latestReload = useRef(reload);
  latestReload.current = reload;
  // The button that started it is disabled while busy, which drops keyboard focus to the page:
  // it gets focus back afterwards (WCAG 2.4.3), so a keyboard user goes on from the same row. Once
  // the page shows the button enabled again (an effect of busy turning false), not at a guessed
  // moment: focus() on a button still disabled does nothing.
  const returnFocus = useRef<HTMLElement | null>(null);
  const runner = useRef<ReturnType<typeof createActionRunner> | null>(null);
  runner.current ??= createActionRunner({
    reload: () => latestReload.current(),
    setBusy,
    setActionError,
    setNotice,
    // The last control focused outside a dialog: an action asked for a reason starts from the
    // dialog's button, which is not where the user goes on from.
    onStart: () => {
      returnFocus.current = lastFocusedOutsideDialog;
    },
  });
  useEffect(() => {
    if (busy) return;
    const el = returnFocus.current;
    returnFocus.current = null;
    if (el?.isConnected && (document.activeElement === document.body || document.activeElement === null)) el.focus();
  }, [busy]);
  const { act } = runner.current;
  /** busy: an action is in flight; its buttons are disabled meanwhile. */
  return { act, actionError, notice, busy };
}
