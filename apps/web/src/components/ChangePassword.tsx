"use client";
// Changing one's own password. The API revokes every older token when it succeeds, so the
// session ends here too and the user signs in again with the new password.
import { signOutHere } from "@/lib/signOutHere";
import { useState, type FormEvent } from "react";
import { gql } from "@/lib/gql";
import { describeError } from "@/lib/errors";
import { CHANGE_MY_PASSWORD } from "@/lib/operations";
import { NEW_PASSWORD_MIN_LENGTH as MIN_LENGTH } from "@/lib/newPassword";

export function ChangePassword({ login, forced }: { login: string; forced: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const currentPassword = String(f.get("current") ?? "");
    const newPassword = String(f.get("new") ?? "");
    if (newPassword !== String(f.get("confirm") ?? "")) return setError("The two new passwords differ.");
    setBusy(true);
    setError(null);
    try {
      await gql(CHANGE_MY_PASSWORD, { currentPassword, newPassword });
      await signOutHere("/login?changed=1");
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <div className="panel" style={{ maxWidth: 460 }}>
      <h1>{forced ? "Choose your own password" : "Change password"}</h1>
      {forced && (
        <p className="notice" role="status" data-testid="temporary-password-notice">
          The password of <b>{login}</b> was set by an administrator, or is older than this installation allows.
          Choose a new one that only you know before going on: a report can only be signed with your own password.
        </p>
      )}
      <form onSubmit={onSubmit} aria-label="Change password" style={{ display: "grid", gap: "0.75rem" }}>
        {/* For password managers: which account this is. */}
        <input type="text" name="username" value={login} autoComplete="username" readOnly hidden />
        <label>
          Current password
          <input name="current" type="password" autoComplete="current-password" required data-testid="password-current" />
        </label>
        <label>
          New password (≥ {MIN_LENGTH} characters)
          <input name="new" type="password" autoComplete="new-password" minLength={MIN_LENGTH} required aria-describedby="password-rules" data-testid="password-new" />
        </label>
        <p id="password-rules" className="muted" style={{ margin: 0 }}>
          A phrase of your own is best. Not accepted: a common word with digits or symbols around it, a short run of digits and symbols, fewer than 4 different characters, your login or name, or one of your last 5 passwords.
        </p>
        <label>
          New password again
          <input name="confirm" type="password" autoComplete="new-password" minLength={MIN_LENGTH} required data-testid="password-confirm" />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="password-error">
            {error}
          </p>
        )}
        <button className="primary" type="submit" disabled={busy} data-testid="password-submit">
          {busy ? "Changing…" : "Change password and sign in again"}
        </button>
      </form>
    </div>
  );
}
