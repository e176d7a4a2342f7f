// Reading the session on the server: pages, layouts and route handlers. Every page calls
// requirePage(); every route handler calls sessionFromRequest() and fails closed.
import "server-only";
import { getToken } from "next-auth/jwt";
import { cookies } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import type { NextRequest } from "next/server";
import { env } from "@/env";
import { claimsFrom, SESSION_COOKIE, type SessionClaims } from "@/auth/options";
import { canOpen, type PageKey } from "@/auth/roles";
import { ApiError, sessionEndedUrl } from "@/lib/errors";
import { apiGraphQL } from "./api";

async function decodeFromCookies(cookieList: { name: string; value: string }[]): Promise<SessionClaims | null> {
  const jar = Object.fromEntries(cookieList.map((c) => [c.name, c.value]));
  const token = await getToken({
    // No headers: the session comes from the HTTP-only cookie only, never an Authorization header.
    req: { cookies: jar, headers: {} } as never,
    secret: env.NEXTAUTH_SECRET,
    cookieName: SESSION_COOKIE,
    secureCookie: env.secureCookies,
  });
  return claimsFrom(token as Record<string, unknown> | null);
}

export async function currentSession(): Promise<SessionClaims | null> {
  return decodeFromCookies((await cookies()).getAll());
}

export function sessionFromRequest(request: NextRequest): Promise<SessionClaims | null> {
  return decodeFromCookies(request.cookies.getAll());
}

/** For pages: no session -> login; a role without this page -> HTTP 403 (src/app/forbidden.tsx). */
export async function requirePage(page: PageKey, returnTo: string): Promise<SessionClaims> {
  const session = await currentSession();
  if (!session) redirect(`/login?callbackUrl=${encodeURIComponent(returnTo)}`);
  if (!canOpen(page, session.role)) forbidden();
  return session;
}

/**
 * The API call of a server page: when the API refuses the token (expired, revoked), the session
 * is ended and the user signs in again, rather than seeing an error page.
 */
export async function pageQuery<T>(session: SessionClaims, returnTo: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  try {
    return await apiGraphQL<T>(query, variables, session.apiToken);
  } catch (e) {
    if (e instanceof ApiError && e.code === "UNAUTHENTICATED") redirect(sessionEndedUrl(returnTo, e.reason));
    throw e;
  }
}

/** What client components may know about the user (no token). */
export function publicUser(s: SessionClaims) {
  return { id: s.uid, login: s.login, name: s.name, role: s.role };
}
