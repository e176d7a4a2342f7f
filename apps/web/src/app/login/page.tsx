import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { safeCallback } from "@/lib/callback";
import { currentSession } from "@/server/session";
import { LoginForm } from "./LoginForm";

export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const callbackUrl = safeCallback(params.callbackUrl);
  // Authorization decision for this page: anyone may see it; a signed-in user goes on.
  if (await currentSession()) redirect(callbackUrl);
  return (
    <main>
      <div className="panel" style={{ maxWidth: 420, margin: "8vh auto" }}>
        <h1>RCMNet · CAR-T review</h1>
        <p className="muted">Sign in with your hospital account. Sessions end after 8 hours.</p>
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
