"use client";
// A sign-in's look back, shown to the account's owner until dismissed: when the account last
// signed in, and the wrong passwords typed for it since. A sign-in that was not theirs (an
// administrator who set their password and used it, say) or guesses at their password are theirs
// to notice first.
import { useEffect, useState } from "react";
import { formatDateTime } from "@/lib/format";

/** localStorage: the sign-in whose notice was dismissed (not sensitive: an id and a time). */
const DISMISSED = "rcmnet.signInNoticeDismissed";

export function signInNoticeText(previousSignInAt: number | null, failedSignInsBefore: number): string | null {
  // At least: a correct signature in a session resets the API's count too.
  const wrong = failedSignInsBefore === 1 ? "At least 1 wrong password was" : `At least ${failedSignInsBefore} wrong passwords were`;
  if (previousSignInAt === null) return failedSignInsBefore > 0 ? `${wrong} typed for your account before this sign-in. Not you? Tell your administrator.` : null;
  const since = failedSignInsBefore > 0 ? ` ${wrong} typed for your account since then.` : "";
  return `Your previous sign-in: ${formatDateTime(new Date(previousSignInAt).toISOString())}.${since} Not you? Tell your administrator.`;
}

export function SignInNotice({ signIn, previousSignInAt, failedSignInsBefore }: { signIn: string; previousSignInAt: number | null; failedSignInsBefore: number }) {
  // Hidden until read in the browser: a notice already dismissed must not flash on every page.
  const [dismissed, setDismissed] = useState(true);
  useEffect(() => setDismissed(window.localStorage.getItem(DISMISSED) === signIn), [signIn]);
  const text = signInNoticeText(previousSignInAt, failedSignInsBefore);
  if (dismissed || !text) return null;
  return (
    <p className={failedSignInsBefore > 0 ? "error" : "notice"} role="status" data-testid="sign-in-notice">
      {text}{" "}
      <button
        type="button"
        onClick={() => {
          window.localStorage.setItem(DISMISSED, signIn);
          setDismissed(true);
        }}
        data-testid="sign-in-notice-dismiss"
      >
        Dismiss
      </button>
    </p>
  );
}
