"use client";
// Every way the dashboard signs out goes through here: what this tab remembers of the session
// goes with it, so the next person to sign in at this workstation starts afresh.
import { signOut } from "next-auth/react";

/** sessionStorage: this tab's session has signed once with both components (SignOffDialog). */
export const SIGNATURE_SERIES = "rcmnet.signatureSeries";

export function signOutHere(callbackUrl: string): Promise<unknown> {
  window.sessionStorage.removeItem(SIGNATURE_SERIES);
  return signOut({ callbackUrl });
}
