// What a page's action does, without React (useAction wraps it): one at a time, the page's data
// reloaded afterwards, and the outcome given back to whoever asked (a dialog keeps itself open
// with the refusal).
import { ApiError, describeError } from "./errors";

/** How an action ended: done, or refused with the message the user is shown. */
export type ActOutcome = { ok: true } | { ok: false; refusal: string };

/**
 * How long the page's reload after a done action is waited for: one that never answers must not
 * hold the page busy (and a dialog open) for an action already done.
 */
export const RELOAD_TIMEOUT_MS = 60_000;

/**
 * How long an action holds the page (its buttons disabled, any other action refused) without an
 * answer: a request lost with its connection must not hold it for good. A dialog releases its
 * form sooner (ASK_TIMEOUT_MS, askSession.ts). Actions with limits of their own (an audit export
 * that verifies the whole chain before its first byte: download.ts) say `timeoutMs: null`.
 */
export const ACTION_TIMEOUT_MS = 120_000;

/** Said on the page once ACTION_TIMEOUT_MS have passed without an answer. */
export const PAGE_NO_ANSWER = `No answer from the server after ${ACTION_TIMEOUT_MS / 1000} s. The action may still be carried out: reload the page to see whether it was before doing it again.`;

/** Said when the action was done but the page's reload after it did not answer. */
export const RELOAD_NO_ANSWER = "Done, but the page could not be loaded again: reload it to see the change.";

/** Said to a dialog whose answer arrives while another action runs (its buttons are not all held). */
export const ANOTHER_ACTION_RUNNING = "Another action is still running. Wait for it to finish, then try again.";

export interface ActionRunnerHooks {
  /** Loads the page's data again. */
  reload: () => Promise<unknown>;
  setBusy: (busy: boolean) => void;
  setActionError: (message: string | null) => void;
  setNotice: (message: string | null) => void;
  /** Called as an action starts (useAction notes where focus goes back to). */
  onStart?: () => void;
  /** RELOAD_TIMEOUT_MS unless given (tests). */
  reloadTimeoutMs?: number;
  /** ACTION_TIMEOUT_MS unless given (tests). */
  actionTimeoutMs?: number;
}

class NoAnswer extends Error {}

/** `work`, or NoAnswer once `ms` have passed without it settling (it may still settle later). */
function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswer()), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** `done`: the confirmation to show, or one made from the action's answer (null: none). */
export type Done<T> = string | ((result: T) => string | null);

export function createActionRunner(hooks: ActionRunnerHooks) {
  const timeoutMs = hooks.reloadTimeoutMs ?? RELOAD_TIMEOUT_MS;
  // A plain flag, not React state: a double-click's second call comes before a re-render with busy.
  let running = false;

  async function act<T>(fn: () => Promise<T>, done?: Done<T>, { timeoutMs: limitMs = hooks.actionTimeoutMs ?? ACTION_TIMEOUT_MS }: { timeoutMs?: number | null } = {}): Promise<ActOutcome> {
    // One action at a time: a double-click must not start two training runs or create a user twice.
    if (running) return { ok: false, refusal: ANOTHER_ACTION_RUNNING };
    running = true;
    hooks.onStart?.();
    hooks.setBusy(true);
    hooks.setActionError(null);
    hooks.setNotice(null);
    try {
      let result: T;
      try {
        result = limitMs === null ? await fn() : await within(fn(), limitMs);
      } catch (e) {
        if (e instanceof NoAnswer) {
          // The page is released (the request may yet be carried out: it is not sent again here).
          hooks.setActionError(PAGE_NO_ANSWER);
          return { ok: false, refusal: PAGE_NO_ANSWER };
        }
        const refusal = describeError(e);
        hooks.setActionError(refusal);
        // CONFLICT: someone else changed the record since the page loaded it. The page shows it
        // as it is now, so that the next try is made against what is there (the message stays).
        // A failed reload must not replace the refusal, which says what happened to the action.
        if (e instanceof ApiError && e.code === "CONFLICT") await within(hooks.reload(), timeoutMs).catch(() => undefined);
        return { ok: false, refusal };
      }
      try {
        const said = typeof done === "function" ? done(result) : done;
        if (said) hooks.setNotice(said);
        await within(hooks.reload(), timeoutMs);
      } catch (e) {
        // The action itself was done: said on the page, but not as a refusal that invites sending
        // it again (a second user created, a second run started).
        hooks.setActionError(e instanceof NoAnswer ? RELOAD_NO_ANSWER : describeError(e));
      }
      return { ok: true };
    } finally {
      running = false;
      hooks.setBusy(false);
    }
  }

  return { act };
}
