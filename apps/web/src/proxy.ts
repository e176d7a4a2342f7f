// Runs before every page and route handler: refuses requests that do not name this app (DNS
// rebinding), sets the per-request CSP nonce, refuses cross-origin state-changing requests
// (CSRF), and sends signed-out visitors to the login page.
// Role decisions are made again by each page (requirePage) and route handler, and by the API.
import { NextResponse, type NextRequest } from "next/server";
import { env } from "@/env";
import { sessionFromRequest } from "@/server/session";
import { contentSecurityPolicy, HOST_REFUSED_MESSAGE, hostAllowed, originAllowed } from "@/server/security";

const PUBLIC_PAGES = ["/login", "/session-ended"];

export async function proxy(request: NextRequest) {
  const { pathname } = request.nextUrl;

  // First, for every request the matcher lets in, prefetches included: Host must name this app.
  if (!hostAllowed(request.headers.get("host"), env.allowedOrigins)) {
    return NextResponse.json(
      { errors: [{ message: HOST_REFUSED_MESSAGE, extensions: { code: "FORBIDDEN" } }] },
      { status: 421, headers: { "cache-control": "no-store" } },
    );
  }

  if (pathname.startsWith("/api/")) {
    if (!originAllowed(request.method, request.headers.get("origin"), request.headers.get("host"), env.allowedOrigins)) {
      return NextResponse.json(
        { errors: [{ message: "Cross-origin request refused.", extensions: { code: "FORBIDDEN" } }] },
        { status: 403 },
      );
    }
    return NextResponse.next();
  }

  // Router prefetches of pages pass untouched, as before they reached the proxy at all (no nonce
  // of their own; the page checks the session itself: requirePage).
  if (isPrefetch(request)) return NextResponse.next();

  if (!PUBLIC_PAGES.includes(pathname) && !(await sessionFromRequest(request))) {
    const login = new URL("/login", request.url);
    login.searchParams.set("callbackUrl", pathname + request.nextUrl.search);
    return NextResponse.redirect(login);
  }

  const nonce = Buffer.from(crypto.randomUUID()).toString("base64");
  const csp = contentSecurityPolicy(nonce, env.NODE_ENV === "development");
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("Content-Security-Policy", csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("Content-Security-Policy", csp);
  response.headers.set("Cache-Control", "no-store");
  // Served over https (NEXTAUTH_URL): browsers must never fall back to plain http for this host.
  if (env.secureCookies) response.headers.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  return response;
}

function isPrefetch(request: NextRequest): boolean {
  return request.headers.has("next-router-prefetch") || request.headers.get("purpose") === "prefetch";
}

export const config = {
  matcher: [
    {
      // Not /api/uploads: Next buffers the body of every request the proxy sees and passes on only
      // its first 10 MB, which cut field images of 10-25 MB short (the API answered 502). That route
      // makes the same Host, Origin and session checks itself (requireRoute) and streams the body.
      // Requests with prefetch headers are matched too (any client can add those headers): the
      // Host and Origin checks must not be skipped by adding one; isPrefetch lets page prefetches by.
      source: "/((?!_next/static|_next/image|favicon.ico|api/uploads).*)",
    },
  ],
};
