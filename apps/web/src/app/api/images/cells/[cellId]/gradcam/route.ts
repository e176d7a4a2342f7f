// A cell's Grad-CAM overlay, made by the API with the model version of the cell's latest prediction.
import type { NextRequest } from "next/server";
import { gqlErrorResponse, requireRoute } from "@/server/routeAuth";
import { proxyImage } from "@/server/imageProxy";

export const dynamic = "force-dynamic";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function GET(request: NextRequest, ctx: { params: Promise<{ cellId: string }> }) {
  const auth = await requireRoute(request);
  if (auth.denied) return auth.denied;
  const { cellId } = await ctx.params;
  if (!UUID.test(cellId)) return gqlErrorResponse(400, "BAD_USER_INPUT", "Not a cell id.");
  // Not cached: a newer prediction changes the overlay behind this URL, and on a shared
  // workstation the next user must not find it in the browser cache.
  return proxyImage(auth.session, `/cells/${cellId}/gradcam`, "private, no-store");
}
