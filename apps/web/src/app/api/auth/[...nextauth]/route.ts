import type { NextRequest } from "next/server";
import NextAuth from "next-auth";
import { authOptions } from "@/auth/options";
import { env } from "@/env";
import { refuseForeignHost, gqlErrorResponse } from "@/server/routeAuth";
import { originAllowed } from "@/server/security";

const handler = NextAuth(authOptions);

/**
 * The sign-in itself (csrf, then callback/credentials) must not be reachable from a page on
 * another site whose name was rebound to this machine: src/proxy.ts refuses a foreign Host and a
 * foreign Origin, and this handler repeats both, so that no matcher or header decides alone.
 */
async function guarded(request: NextRequest, context: { params: Promise<{ nextauth: string[] }> }) {
  const foreign = refuseForeignHost(request);
  if (foreign) return foreign;
  if (!originAllowed(request.method, request.headers.get("origin"), request.headers.get("host"), env.allowedOrigins)) {
    return gqlErrorResponse(403, "FORBIDDEN", "Cross-origin request refused.");
  }
  return handler(request, context);
}

export { guarded as GET, guarded as POST };
