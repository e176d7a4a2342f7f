// The browser's only way to the GraphQL API: adds the session's API token server-side.
import type { NextRequest } from "next/server";
import { env } from "@/env";
import { BACKGROUND, BACKGROUND_HEADER } from "@/lib/idle";
import { gqlErrorResponse, requireRoute } from "@/server/routeAuth";
import { refuseTokenOperation } from "@/server/tokenOperations";

export const dynamic = "force-dynamic";
const MAX_BODY = 1_000_000;

/** The body as text, or null once it passes `max` bytes (stops reading: never buffers more). */
async function readLimited(request: NextRequest, max: number): Promise<string | null> {
  if (Number(request.headers.get("content-length") ?? 0) > max) return null;
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function POST(request: NextRequest) {
  const auth = await requireRoute(request);
  if (auth.denied) return auth.denied;
  if (!request.headers.get("content-type")?.includes("application/json")) {
    return gqlErrorResponse(415, "BAD_USER_INPUT", "GraphQL requests must be JSON.");
  }
  const body = await readLimited(request, MAX_BODY);
  if (body === null) return gqlErrorResponse(413, "BAD_USER_INPUT", "Request too large.");
  // Nothing that answers an API token goes through (the body sent is the body checked).
  const refused = refuseTokenOperation(body);
  if (refused) return gqlErrorResponse(refused.status, refused.code, refused.message);
  let upstream: Response;
  try {
    upstream = await fetch(`${env.API_URL}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        authorization: `Bearer ${auth.session.apiToken}`,
        // A poll (useQuery): the API checks the session without counting it as use.
        ...(request.headers.get(BACKGROUND_HEADER) === "1" ? BACKGROUND : {}),
      },
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
