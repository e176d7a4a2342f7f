import type { Metadata } from "next";
import Link from "next/link";
import { safeCallback } from "@/lib/callback";
import { BACKGROUND } from "@/lib/idle";
import { ME } from "@/lib/operations";
import { apiGraphQL } from "@/server/api";
import { currentSession } from "@/server/session";
import { EndSession } from "./EndSession";

export const metadata: Metadata = { title: "Session ended" };

// Reached when the API refuses the session's token (expired, password changed, account
// disabled, signed out elsewhere): the dashboard's own session cookie is cleared too, then the
// user signs in again. A link from another site can lead here as well, so the session is only
// ended when the API really refuses it; a live session is offered the way back instead.
// Authorization decision: public (it only ends a session that is already dead).
export default async function SessionEndedPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string; reason?: string }> }) {
  const params = await searchParams;
  const callbackUrl = safeCallback(params.callbackUrl);
  // Display only: the login page picks one of its own sentences by it, never shows it.
  const idle = params.reason === "idle";
  const session = await currentSession();
  // A background check: a visit here (a link from anywhere) must not count as use of the session.
  const alive = session ? await apiGraphQL(ME, {}, session.apiToken, BACKGROUND).then(() => true, () => false) : false;
  if (alive) {
    return (
      <main>
        <div className="panel" style={{ maxWidth: 480, margin: "8vh auto" }} data-testid="session-alive">
          <h1>You are still signed in</h1>
          <p>
            <Link href={callbackUrl}>Continue</Link>
          </p>
        </div>
      </main>
    );
  }
  return (
    <main>
      <div className="panel" style={{ maxWidth: 480, margin: "8vh auto" }} data-testid="session-ended">
        <h1>Your session has ended</h1>
        <p>{idle ? "You were signed out after a period without activity. " : ""}Signing you out… You will be asked to sign in again.</p>
        <EndSession callbackUrl={callbackUrl} idle={idle} />
      </div>
    </main>
  );
}
