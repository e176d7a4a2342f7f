// Server-side GraphQL client for the API. Used by NextAuth's authorize (no token yet) and by
// server components; browser code goes through /api/graphql instead.
import "server-only";
import { env } from "@/env";
import { ApiError, fromGraphQLErrors } from "@/lib/errors";

export async function apiGraphQL<T>(
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
  extraHeaders: Record<string, string> = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${env.API_URL}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        ...extraHeaders,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
      cache: "no-store",
    });
  } catch {
    throw new ApiError("NETWORK", "The API could not be reached.");
  }
  const body = (await res.json().catch(() => null)) as { data?: T; errors?: { message?: string; extensions?: { code?: string } }[] } | null;
  if (body?.errors?.length) throw fromGraphQLErrors(body.errors, res.status);
  if (!res.ok || !body?.data) throw new ApiError("INTERNAL", `API answered HTTP ${res.status}.`, res.status);
  return body.data;
}
