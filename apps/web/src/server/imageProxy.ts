import "server-only";
// Streams an image from the API to the browser with the session's API token. Only images come
// back from here (never sniffed into something else); refusals keep their 4xx status and an
// unreachable or failing API is a 502, so the page can fall back (e.g. "Grad-CAM unavailable").
import { env } from "@/env";
import type { SessionClaims } from "@/auth/options";
import { gqlErrorResponse } from "./routeAuth";

export async function proxyImage(session: SessionClaims, apiPath: string, cacheControl: string, request?: Request): Promise<Response> {
  let upstream: Response;
  // A revalidation goes to the API too: it decides again whether this session may see the image.
  const ifNoneMatch = request?.headers.get("if-none-match");
  try {
    upstream = await fetch(`${env.API_URL}${apiPath}`, {
      headers: { authorization: `Bearer ${session.apiToken}`, ...(ifNoneMatch ? { "if-none-match": ifNoneMatch } : {}) },
      cache: "no-store",
    });
  } catch {
    return gqlErrorResponse(502, "NETWORK", "The API could not be reached.");
  }
  const etag = upstream.headers.get("etag");
  if (upstream.status === 304) {
    return new Response(null, { status: 304, headers: { "cache-control": cacheControl, ...(etag ? { etag } : {}) } });
  }
  if (!upstream.ok || !upstream.body) {
    return new Response(null, { status: upstream.status >= 400 && upstream.status < 500 ? upstream.status : 502 });
  }
  const type = upstream.headers.get("content-type") ?? "application/octet-stream";
  return new Response(upstream.body, {
    headers: {
      "content-type": type.startsWith("image/") ? type : "application/octet-stream",
      "x-content-type-options": "nosniff",
      "cache-control": cacheControl,
      ...(etag ? { etag } : {}),
    },
  });
}
