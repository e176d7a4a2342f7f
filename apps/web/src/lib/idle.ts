// The dashboard's side of automatic logoff. The API ends a session its user left (idle timeout);
// the dashboard reports real use to it (key and pointer input, not polls) and warns before then.

/**
 * The header of a request the user did not ask for (a poll, a session check): the API checks the
 * session but does not count it as use (apps/api context.ts BACKGROUND_HEADER).
 */
export const BACKGROUND_HEADER = "x-rcmnet-background";
export const BACKGROUND = { [BACKGROUND_HEADER]: "1" };

/** How often the session watch reports use, or asks whether the session still lives. */
export const SESSION_CHECK_MS = 30_000;
/** The warning shows this long before the timeout. */
export const IDLE_WARNING_S = 120;

/** Seconds left before an idle sign-out, once within the warning window; null before it. */
export function idleSecondsLeft(lastInputMs: number, nowMs: number, idleTimeoutSeconds: number): number | null {
  const left = idleTimeoutSeconds - (nowMs - lastInputMs) / 1000;
  return left <= IDLE_WARNING_S ? Math.max(0, Math.ceil(left)) : null;
}

/** "1:05" */
export function clock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}
