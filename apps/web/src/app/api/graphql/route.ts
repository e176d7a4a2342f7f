// The browser's only way to the GraphQL API: adds the session's API token server-side.
import type { NextRequest } from "next/server";
import { env } from "@/env";
import { gqlErrorResponse, requireRoute } from "@/server/routeAuth";

export const dynamic = "force-dynamic";
const MAX_BODY = 1_000_000;

export async function POST(request: NextRequest) {
  const auth = await requireRoute(request);
  if (auth.denied) return auth.denied;
  if (!request.headers.get("content-type")?.includes("application/json")) {
    return gqlErrorResponse(415, "BAD_USER_INPUT", "GraphQL requests must be JSON.");
  }
  const body = await request.text();
  if (body.length > MAX_BODY) return gqlErrorResponse(413, "BAD_USER_INPUT", "Request too large.");
  let upstream: Response;
  try {
    upstream = await fetch(`${env.API_URL}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${auth.session.apiToken}` },
      body,
      cache: "no-store",
    });
  } catch {
    return gqlErrorResponse(502, "NETWORK", "The API could not be reached.");
  }
  return new Response(await upstream.text(), {
    status: upstream.status,
    headers: { "content-type": upstream.headers.get("content-type") ?? "application/json", "cache-control": "no-store" },
  });
}
