// Slide images and cell crops from the API's content-addressed blob store.
import type { NextRequest } from "next/server";
import { gqlErrorResponse, requireRoute } from "@/server/routeAuth";
import { proxyImage } from "@/server/imageProxy";

export const dynamic = "force-dynamic";
const SHA256 = /^[0-9a-f]{64}$/;

export async function GET(request: NextRequest, ctx: { params: Promise<{ sha256: string }> }) {
  const auth = await requireRoute(request);
  if (auth.denied) return auth.denied;
  const { sha256 } = await ctx.params;
  if (!SHA256.test(sha256)) return gqlErrorResponse(400, "BAD_USER_INPUT", "Not an image id.");
  // Content-addressed, so a cached copy is never stale; but clinical data on a possibly shared
  // workstation: the browser revalidates each use (a 304 after the API's role check), so after a
  // sign-out the cache shows nothing to whoever sits down next.
  return proxyImage(auth.session, `/blobs/${sha256}`, "private, no-cache", request);
}
