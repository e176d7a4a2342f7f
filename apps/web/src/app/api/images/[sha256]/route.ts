// Slide images, cell crops and Grad-CAM overlays from the API's content-addressed blob store.
import type { NextRequest } from "next/server";
import { env } from "@/env";
import { gqlErrorResponse, requireRoute } from "@/server/routeAuth";

export const dynamic = "force-dynamic";
const SHA256 = /^[0-9a-f]{64}$/;

export async function GET(request: NextRequest, ctx: { params: Promise<{ sha256: string }> }) {
  const auth = await requireRoute(request);
  if (auth.denied) return auth.denied;
  const { sha256 } = await ctx.params;
  if (!SHA256.test(sha256)) return gqlErrorResponse(400, "BAD_USER_INPUT", "Not an image id.");
  const gradcam = request.nextUrl.searchParams.get("overlay") === "gradcam";
  let upstream: Response;
  try {
    upstream = await fetch(`${env.API_URL}/blobs/${sha256}${gradcam ? "/gradcam" : ""}`, {
      headers: { authorization: `Bearer ${auth.session.apiToken}` },
      cache: "no-store",
    });
  } catch {
    return gqlErrorResponse(502, "NETWORK", "The API could not be reached.");
  }
  if (!upstream.ok || !upstream.body) {
    return new Response(null, { status: upstream.status === 404 ? 404 : upstream.status >= 400 && upstream.status < 500 ? upstream.status : 502 });
  }
  const type = upstream.headers.get("content-type") ?? "application/octet-stream";
  return new Response(upstream.body, {
    headers: {
      // Only images are served from here, and never sniffed into something else.
      "content-type": type.startsWith("image/") ? type : "application/octet-stream",
      "x-content-type-options": "nosniff",
      // Content-addressed, so immutable; private because it is clinical data.
      "cache-control": "private, max-age=3600, immutable",
    },
  });
}
