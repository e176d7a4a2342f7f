import "server-only";
import { NextResponse, type NextRequest } from "next/server";
import { canOpen, type PageKey } from "@/auth/roles";
import { env } from "@/env";
import { sessionFromRequest } from "./session";
import { fetchSiteAllowed, HOST_REFUSED_MESSAGE, hostAllowed, originAllowed } from "./security";
import type { SessionClaims } from "@/auth/options";

export function gqlErrorResponse(status: number, code: string, message: string) {
  return NextResponse.json({ errors: [{ message, extensions: { code } }] }, { status, headers: { "cache-control": "no-store" } });
}

/**
 * 421 for a request that does not name this app (DNS rebinding: security.ts hostAllowed), else
 * null. src/proxy.ts refuses them too; route handlers repeat it because the proxy does not see
 * every request (api/uploads is outside its matcher).
 */
export function refuseForeignHost(request: NextRequest): NextResponse | null {
  if (hostAllowed(request.headers.get("host"), env.allowedOrigins)) return null;
  return gqlErrorResponse(421, "FORBIDDEN", HOST_REFUSED_MESSAGE);
}

/**
 * Route handlers' authorization decision. `page` narrows a route to the roles of that page
 * (e.g. the audit CSV to AUDITOR/ADMIN); the API decides again on every call. The CSRF Origin
 * check is repeated here, and so is the Host check (refuseForeignHost): src/proxy.ts does not see
 * api/uploads.
 */
export async function requireRoute(
  request: NextRequest,
  page?: PageKey,
  /** recordsAction: a GET with a side effect (the audit export is itself audited). */
  { recordsAction = false }: { recordsAction?: boolean } = {},
): Promise<{ session: SessionClaims; denied?: never } | { session?: never; denied: NextResponse }> {
  const foreign = refuseForeignHost(request);
  if (foreign) return { denied: foreign };
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
