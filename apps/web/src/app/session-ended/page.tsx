import type { Metadata } from "next";
import { safeCallback } from "@/lib/callback";
import { EndSession } from "./EndSession";

export const metadata: Metadata = { title: "Session ended" };

// Reached when the API refuses the session's token (expired, password changed, account
// disabled): the dashboard's own session cookie is cleared too, then the user signs in again.
// Authorization decision: public (it only ends a session).
export default async function SessionEndedPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string }> }) {
  const { callbackUrl } = await searchParams;
  return (
    <main>
      <div className="panel" style={{ maxWidth: 480, margin: "8vh auto" }} data-testid="session-ended">
        <h1>Your session has ended</h1>
        <p>Signing you out… You will be asked to sign in again.</p>
        <EndSession callbackUrl={safeCallback(callbackUrl)} />
      </div>
    </main>
  );
}
