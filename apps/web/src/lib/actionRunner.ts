// What a page's action does, without React (useAction wraps it): one at a time, the page's data
// reloaded afterwards, and the outcome given back to whoever asked (a dialog keeps itself open
// with the refusal).
import { ApiError, describeError } from "./errors";

/** How an action ended: done, or refused with the message the user is shown. */
export type ActOutcome = { ok: true } | { ok: false; refusal: string };

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
}

/** `done`: the confirmation to show, or one made from the action's answer (null: none). */
export type Done<T> = string | ((result: T) => string | null);

export function createActionRunner(hooks: ActionRunnerHooks) {
  // A plain flag, not React state: a double-click's second call comes before a re-render with busy.
  let running = false;

  async function act<T>(fn: () => Promise<T>, done?: Done<T>): Promise<ActOutcome> {
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
        result = await fn();
      } catch (e) {
        const refusal = describeError(e);
        hooks.setActionError(refusal);
        // CONFLICT: someone else changed the record since the page loaded it. The page shows it
        // as it is now, so that the next try is made against what is there (the message stays).
        // A failed reload must not replace the refusal, which says what happened to the action.
        if (e instanceof ApiError && e.code === "CONFLICT") await hooks.reload().catch(() => undefined);
        return { ok: false, refusal };
      }
      try {
        const said = typeof done === "function" ? done(result) : done;
        if (said) hooks.setNotice(said);
        await hooks.reload();
      } catch (e) {
        // The action itself was done: said on the page, but not as a refusal that invites sending
        // it again (a second user created, a second run started).
        hooks.setActionError(describeError(e));
      }
      return { ok: true };
    } finally {
      running = false;
      hooks.setBusy(false);
    }
  }

  return { act };
}
