"use client";
import { useState } from "react";
import { describeError } from "./errors";

/**
 * A button's action on a page: run it, reload the page's data, and keep what the user must see
 * (the refusal's message, or a confirmation) until the next action.
 */
export function useAction(reload: () => Promise<unknown>) {
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  async function act(fn: () => Promise<unknown>, done?: string) {
    setActionError(null);
    setNotice(null);
    try {
      await fn();
      if (done) setNotice(done);
      await reload();
    } catch (e) {
      setActionError(describeError(e));
    }
  }
  return { act, actionError, notice };
}
