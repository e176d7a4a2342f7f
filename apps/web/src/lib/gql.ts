"use client";
// Browser-side GraphQL: always through this app's /api/graphql (the API token stays server-side).
import { ApiError, fromGraphQLErrors } from "./errors";

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch("/api/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError("NETWORK", "The server could not be reached. Check the connection and try again.");
  }
  const body = (await res.json().catch(() => null)) as { data?: T; errors?: { message?: string; extensions?: { code?: string } }[] } | null;
  if (body?.errors?.length) {
    const error = fromGraphQLErrors(body.errors, res.status);
    if (error.code === "UNAUTHENTICATED" && typeof window !== "undefined") {
      // The API no longer accepts this session (expired, revoked): end ours too, then sign in again.
      window.location.assign(`/session-ended?callbackUrl=${encodeURIComponent(window.location.pathname + window.location.search)}`);
    }
    throw error;
  }
  if (!res.ok || !body?.data) throw new ApiError("INTERNAL", "Something went wrong on the server. The action was not completed.", res.status);
  return body.data;
}
