"use client";
import { signIn } from "next-auth/react";
import { useState, type FormEvent } from "react";

export function LoginForm({ callbackUrl }: { callbackUrl: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    // next-auth fetches its CSRF token and posts it with the credentials.
    const res = await signIn("credentials", {
      login: String(form.get("login") ?? ""),
      password: String(form.get("password") ?? ""),
      redirect: false,
    }).catch(() => null);
    setBusy(false);
    if (!res) return setError("The server could not be reached.");
    if (res.error) {
      return setError(res.error === "CredentialsSignin" ? "Wrong login or password." : res.error);
    }
    window.location.assign(callbackUrl);
  }

  return (
    <form onSubmit={onSubmit} aria-label="Sign in" style={{ display: "grid", gap: "0.75rem" }}>
      <label>
        Login
        <input name="login" autoComplete="username" required data-testid="login-username" />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required data-testid="login-password" />
      </label>
      {error && (
        <p className="error" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
      <button className="primary" type="submit" disabled={busy} data-testid="login-submit">
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
