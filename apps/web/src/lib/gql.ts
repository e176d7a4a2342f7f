"use client";
// Browser-side GraphQL: always through this app's /api/graphql (the API token stays server-side).
import { ApiError, fromGraphQLErrors, sessionEndedUrl, type SessionEndReason } from "./errors";
import { BACKGROUND } from "./idle";

let leaving = false;

/** The API refused this session and the page is on its way to /session-ended (nothing may hold it). */
export function sessionEnding(): boolean {
  return leaving;
}

/**
 * Ends the dashboard's side of a session the API no longer accepts (expired, revoked, idle), then
 * signs in again. Once: the refusals of other requests in flight must not replace the first one's
 * reason.
 */
export function leaveEndedSession(reason: SessionEndReason | undefined): void {
  if (leaving) return;
  leaving = true;
  window.location.assign(sessionEndedUrl(window.location.pathname + window.location.search, reason));
}

/**
 * `background`: a poll the user did not ask for (the API checks the session but does not count it
 * as use, so an open worklist does not keep an unattended workstation signed in). `timeoutMs`: the
 * request is given up after it (answered as a failed connection: the API may still act on it).
 */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, { background = false, timeoutMs }: { background?: boolean; timeoutMs?: number } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch("/api/graphql", {
      ...(timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
      method: "POST",
      headers: { "content-type": "application/json", ...(background ? BACKGROUND : {}) },
      body: JSON.stringify({ query, variables }),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError("NETWORK", "The server could not be reached. Check the connection and try again.");
  }
  const body = (await res.json().catch(() => null)) as { data?: T; errors?: { message?: string; extensions?: { code?: string } }[] } | null;
  if (body?.errors?.length) {
    const error = fromGraphQLErrors(body.errors, res.status);
    if (error.code === "UNAUTHENTICATED" && typeof window !== "undefined") leaveEndedSession(error.reason);
    throw error;
  }
  if (!res.ok || !body?.data) throw new ApiError("INTERNAL", "Something went wrong on the server. The action was not completed.", res.status);
  return body.data;
}
