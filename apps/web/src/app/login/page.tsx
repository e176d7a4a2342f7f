import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { env } from "@/env";
import { safeCallback } from "@/lib/callback";
import { currentSession } from "@/server/session";
import { LoginForm } from "./LoginForm";

export const metadata: Metadata = { title: "Sign in" };

const hours = (s: number) => (s % 3600 === 0 ? `${s / 3600} hour${s === 3600 ? "" : "s"}` : minutes(s));
const minutes = (s: number) => `${Math.round(s / 60)} minute${Math.round(s / 60) === 1 ? "" : "s"}`;

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const callbackUrl = safeCallback(params.callbackUrl);
  // Authorization decision for this page: anyone may see it; a signed-in user goes on.
  if (await currentSession()) redirect(callbackUrl);
  return (
    <main>
      <div className="panel" style={{ maxWidth: 420, margin: "8vh auto" }}>
        <h1>RCMNet · CAR-T review</h1>
        <p className="muted">Sign in with your hospital account. Sessions end after {hours(env.SESSION_MAX_AGE_S)}, and after {minutes(env.RCMNET_IDLE_TIMEOUT_SECONDS)} without activity.</p>
        {params.ended === "idle" && (
          <p className="notice" role="status" data-testid="signed-out-idle">
            You were signed out because the session was left without activity. Sign in again to go on where you were.
          </p>
        )}
        {params.changed === "1" && (
          <p className="notice" role="status" data-testid="password-changed">
            Password changed. Sign in with your new password.
          </p>
        )}
        <LoginForm callbackUrl={callbackUrl} />
      </div>
    </main>
  );
}
