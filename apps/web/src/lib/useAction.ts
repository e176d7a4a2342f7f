"use client";
import { useEffect, useRef, useState } from "react";
import { createActionRunner } from "./actionRunner";
import { containersOf, focusReturnTarget } from "./focusReturn";

export type { ActOutcome } from "./actionRunner";

let lastFocusedOutsideDialog: HTMLElement | null = null;
if (typeof document !== "undefined") {
  document.addEventListener("focusin", (e) => {
    if (e.target instanceof HTMLElement && !e.target.closest("dialog")) lastFocusedOutsideDialog = e.target;
  });
}

/**
 * How long after an action the button is watched for leaving the page: a page that reloads by
 * router.refresh (Void image on the review page) removes it only when the server has answered.
 */
const WATCH_REMOVAL_MS = 30_000;

const focusLost = () => document.activeElement === document.body || document.activeElement === null;

/** Focuses the button, or its nearest container still in the page (focusReturn.ts), if focus has fallen to the page. */
function returnFocusTo(el: HTMLElement, containers: HTMLElement[]) {
  const target = focusReturnTarget(el, containers);
  if (!target || !focusLost()) return;
  // A container takes focus only from a script with tabindex="-1", which adds no tab stop.
  if (target.tabIndex < 0 && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  // Where the user was: a container's top may be far above the removed row.
  target.focus({ preventScroll: target !== el });
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
  const returnFocus = useRef<{ el: HTMLElement; containers: HTMLElement[] } | null>(null);
  const runner = useRef<ReturnType<typeof createActionRunner> | null>(null);
  runner.current ??= createActionRunner({
    reload: () => latestReload.current(),
    setBusy,
    setActionError,
    setNotice,
    // The last control focused outside a dialog: an action asked for a reason starts from the
    // dialog's button, which is not where the user goes on from.
    // Its containers are taken now: once the action has removed it, they can no longer be read.
    onStart: () => {
      const el = lastFocusedOutsideDialog;
      returnFocus.current = el?.isConnected ? { el, containers: containersOf(el) } : null;
    },
  });
  useEffect(() => {
    if (busy) return;
    const saved = returnFocus.current;
    returnFocus.current = null;
    if (!saved) return;
    returnFocusTo(saved.el, saved.containers);
    if (!saved.el.isConnected) return;
    const watch = new MutationObserver(() => {
      if (saved.el.isConnected) return;
      watch.disconnect();
      returnFocusTo(saved.el, saved.containers);
    });
    watch.observe(document.body, { childList: true, subtree: true });
    const stop = setTimeout(() => watch.disconnect(), WATCH_REMOVAL_MS);
    return () => {
      clearTimeout(stop);
      watch.disconnect();
    };
  }, [busy]);
  const { act } = runner.current;
  /** busy: an action is in flight; its buttons are disabled meanwhile. */
  return { act, actionError, notice, busy };
}
