"use client";
import { useEffect, useRef, useState } from "react";
import { describeError } from "./errors";

let lastFocusedOutsideDialog: HTMLElement | null = null;
if (typeof document !== "undefined") {
  document.addEventListener("focusin", (e) => {
    if (e.target instanceof HTMLElement && !e.target.closest("dialog")) lastFocusedOutsideDialog = e.target;
  });
}

/**
 * A button's action on a page: run it, reload the page's data, and keep what the user must see
 * (the refusal's message, or a confirmation) until the next action.
 */
export function useAction(reload: () => Promise<unknown>) {
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // A ref, not the state: a double-click's second call comes before React re-renders with busy.
  const running = useRef(false);
  // The button that started it is disabled while busy, which drops keyboard focus to the page:
  // it gets focus back afterwards (WCAG 2.4.3), so a keyboard user goes on from the same row. Once
  // the page shows the button enabled again (an effect of busy turning false), not at a guessed
  // moment: focus() on a button still disabled does nothing.
  const returnFocus = useRef<HTMLElement | null>(null);
  useEffect(() => {
    if (busy) return;
    const el = returnFocus.current;
    returnFocus.current = null;
    if (el?.isConnected && (document.activeElement === document.body || document.activeElement === null)) el.focus();
  }, [busy]);
  /** `done`: the confirmation to show, or one made from the action's answer (null: none). */
  async function act<T>(fn: () => Promise<T>, done?: string | ((result: T) => string | null)) {
    // One action at a time: a double-click must not start two training runs or create a user twice.
    // Every button that acts is disabled while busy; this catches the click before the re-render.
    if (running.current) return;
    running.current = true;
    // The last control focused outside a dialog: an action asked for a reason starts from the
    // dialog's button, which is gone by then.
    returnFocus.current = lastFocusedOutsideDialog;
    setBusy(true);
    setActionError(null);
    setNotice(null);
    try {
      const result = await fn();
      const said = typeof done === "function" ? done(result) : done;
      if (said) setNotice(said);
      await reload();
    } catch (e) {
      setActionError(describeError(e));
    } finally {
      running.current = false;
      setBusy(false);
    }
  }
  /** busy: an action is in flight; its buttons are disabled meanwhile. */
  return { act, actionError, notice, busy };
}
