import "server-only";
import { NextResponse, type NextRequest } from "next/server";
import { canOpen, type PageKey } from "@/auth/roles";
import { env } from "@/env";
import { sessionFromRequest } from "./session";
import { fetchSiteAllowed, originAllowed } from "./security";
import type { SessionClaims } from "@/auth/options";

export function gqlErrorResponse(status: number, code: string, message: string) {
  return NextResponse.json({ errors: [{ message, extensions: { code } }] }, { status, headers: { "cache-control": "no-store" } });
}

/**
 * Route handlers' authorization decision. `page` narrows a route to the roles of that page
 * (e.g. the audit CSV to AUDITOR/ADMIN); the API decides again on every call. The CSRF Origin
 * check is repeated here: src/proxy.ts is skipped for requests carrying prefetch headers.
 */
export async function requireRoute(
  request: NextRequest,
  page?: PageKey,
  /** recordsAction: a GET with a side effect (the audit export is itself audited). */
  { recordsAction = false }: { recordsAction?: boolean } = {},
): Promise<{ session: SessionClaims; denied?: never } | { session?: never; denied: NextResponse }> {
  if (
    !fetchSiteAllowed(request.headers.get("sec-fetch-site"), { recordsAction }) ||
    !originAllowed(request.method, request.headers.get("origin"), request.headers.get("host"), env.allowedOrigins)
  ) {
    return { denied: gqlErrorResponse(403, "FORBIDDEN", "Cross-origin request refused.") };
  }
  const session = await sessionFromRequest(request);
  if (!session) return { denied: gqlErrorResponse(401, "UNAUTHENTICATED", "Your session has ended. Please sign in again.") };
  if (page && !canOpen(page, session.role)) return { denied: gqlErrorResponse(403, "FORBIDDEN", "Your role does not allow this action.") };
  return { session };
}
