// Per-request context: the acting user (authenticated from the bearer token and re-checked
// against the database on every request), the database, the blob store and fresh DataLoaders.
import { randomUUID } from "node:crypto";
import type { BlobStore, PrismaClient, Role } from "@rcmnet/db";
import type { Env } from "./env.ts";
import type { Logger } from "./log.ts";
import { createLoaders, type Loaders } from "./loaders.ts";
import { tokenDigest, tokenExpiresAt, verifyToken } from "./auth/tokens.ts";
import { mustChangePasswordNow } from "./auth/passwordAge.ts";
import { checkSession } from "./auth/sessions.ts";
import { isRole } from "./auth/roles.ts";

export interface AuthUser {
  id: string;
  login: string;
  displayName: string;
  role: Role;
  /** An administrator set the password: only `me`, `changeMyPassword` and `logout` are allowed. */
  mustChangePassword?: boolean;
}

/** "idle": the session went unused past the idle timeout and was ended. */
export type AuthFailure = "expired" | "invalid" | "revoked" | "idle";

export interface Deps {
  prisma: PrismaClient;
  blobs: BlobStore;
  env: Env;
  log: Logger;
}

export interface Context extends Deps {
  user: AuthUser | null;
  /** Why a presented token was not accepted (absent when no token was presented). */
  authError?: AuthFailure;
  /** The accepted token, by digest and expiry (what `logout` ends). */
  session?: { tokenSha256: string; expiresAt: Date };
  loaders: Loaders;
  requestId: string;
  /** Client address, for rate limiting. */
  ip: string;
}

/** Bearer token only: no cookies, so no CSRF surface on the API. */
export function bearerToken(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization.trim());
  return match?.[1] ?? null;
}

/** The header the dashboard sets on its polls: checked like any request, but not counted as use. */
export const BACKGROUND_HEADER = "x-rcmnet-background";

export async function authenticate(
  deps: Pick<Deps, "prisma" | "env">,
  authorization: string | undefined,
  { background = false } = {},
): Promise<{
  user: AuthUser | null;
  authError?: AuthFailure;
  /** The token's session has ended (signed out, timed out): it can never authenticate again. */
  sessionEnded?: boolean;
  session?: { tokenSha256: string; expiresAt: Date };
}> {
  if (authorization === undefined || authorization === "") return { user: null };
  const token = bearerToken(authorization);
  if (!token) return { user: null, authError: "invalid" };
  const check = await verifyToken(deps.env.authSecret, token);
  if (!check.ok) return { user: null, authError: check.reason };
  const { claims } = check;
  const tokenSha256 = tokenDigest(token);
  const [row, sessionRow] = await Promise.all([
    deps.prisma.user.findUnique({ where: { id: claims.sub } }),
    deps.prisma.apiSession.findUnique({ where: { tokenSha256 } }),
  ]);
  // Disabled, role changed, password changed, or renamed since the token was issued: revoked.
  if (
    !row ||
    row.disabled ||
    row.role !== claims.role ||
    row.login !== claims.login ||
    row.passwordChangedAt.getTime() !== claims.pwv ||
    !isRole(row.role)
  ) {
    return { user: null, authError: "revoked" };
  }
  // Signed out, timed out, or never opened (a token this server did not issue through a sign-in).
  const session = await checkSession(deps.prisma, deps.env, sessionRow, row.id, { background });
  if (session !== "active") return { user: null, authError: session === "idle" ? "idle" : "revoked", sessionEnded: true };
  return {
    user: { id: row.id, login: row.login, displayName: row.displayName, role: row.role, mustChangePassword: mustChangePasswordNow(row, deps.env) },
    session: { tokenSha256, expiresAt: tokenExpiresAt(token) ?? new Date(Date.now() + deps.env.tokenTtlSeconds * 1000) },
  };
}

type Authentication = Awaited<ReturnType<typeof authenticate>>;
const authenticatedRequests = new WeakMap<object, Authentication>();

/** Keeps a request's authentication (done by the rate limit, tokenRateLimit) for its context: done once. */
export function rememberAuthentication(req: object, auth: Authentication): void {
  authenticatedRequests.set(req, auth);
}

export async function buildContext(
  deps: Deps,
  req: { headers: { authorization?: string | undefined; [BACKGROUND_HEADER]?: string | string[] | undefined }; ip?: string | undefined },
): Promise<Context> {
  // Authenticated already by the rate limit (tokenRateLimit) for requests that went through it.
  const auth = authenticatedRequests.get(req) ?? (await authenticate(deps, req.headers.authorization, { background: req.headers[BACKGROUND_HEADER] === "1" }));
  return {
    ...deps,
    ...auth,
    loaders: createLoaders(deps.prisma),
    requestId: randomUUID(),
    ip: req.ip ?? "unknown",
  };
}
