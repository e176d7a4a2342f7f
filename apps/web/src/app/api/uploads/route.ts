// Streams a multipart upload (field `files`) to the API without buffering it here: src/proxy.ts
// skips this route (it would buffer the body and keep only its first 10 MB), so the Origin and
// session checks are requireRoute's alone.
import type { NextRequest } from "next/server";
import { env } from "@/env";
import { gqlErrorResponse, requireRoute } from "@/server/routeAuth";

export const dynamic = "force-dynamic";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function POST(request: NextRequest) {
  const auth = await requireRoute(request, "upload");
  if (auth.denied) return auth.denied;
  const caseId = request.nextUrl.searchParams.get("caseId") ?? "";
  const kind = request.nextUrl.searchParams.get("kind") ?? "FIELD";
  if (!UUID.test(caseId)) return gqlErrorResponse(400, "BAD_USER_INPUT", "Unknown case.");
  if (kind !== "FIELD" && kind !== "CROP") return gqlErrorResponse(400, "BAD_USER_INPUT", "kind must be FIELD or CROP.");
  const contentType = request.headers.get("content-type") ?? "";
  if (!contentType.startsWith("multipart/form-data")) return gqlErrorResponse(415, "BAD_USER_INPUT", "Uploads must be multipart/form-data.");
  let upstream: Response;
  try {
    upstream = await fetch(`${env.API_URL}/uploads/slides?caseId=${encodeURIComponent(caseId)}&kind=${kind}`, {
      method: "POST",
      headers: {
        "content-type": contentType,
        ...(request.headers.get("content-length") ? { "content-length": request.headers.get("content-length")! } : {}),
        authorization: `Bearer ${auth.session.apiToken}`,
      },
      body: request.body,
      // Node's fetch needs half duplex to stream a request body.
      duplex: "half",
    } as RequestInit & { duplex: "half" });
  } catch {
    return gqlErrorResponse(502, "NETWORK", "The API could not be reached.");
  }
  return new Response(await upstream.text(), {
    status: upstream.status,
    headers: { "content-type": upstream.headers.get("content-type") ?? "application/json", "cache-control": "no-store" },
  });
}
