// Per-request context: the acting user (authenticated from the bearer token and re-checked
// against the database on every request), the database, the blob store and fresh DataLoaders.
import { randomUUID } from "node:crypto";
import type { BlobStore, PrismaClient, Role } from "@rcmnet/db";
import type { Env } from "./env.ts";
import type { Logger } from "./log.ts";
import { createLoaders, type Loaders } from "./loaders.ts";
import { tokenDigest, tokenExpiresAt, verifyToken } from "./auth/tokens.ts";
import { isRole } from "./auth/roles.ts";

export interface AuthUser {
  id: string;
  login: string;
  displayName: string;
  role: Role;
}

export type AuthFailure = "expired" | "invalid" | "revoked";

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
  /** The accepted token, by digest and expiry (what `logout` revokes). */
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

export async function authenticate(
  deps: Pick<Deps, "prisma" | "env">,
  authorization: string | undefined,
): Promise<{ user: AuthUser | null; authError?: AuthFailure; session?: { tokenSha256: string; expiresAt: Date } }> {
  if (authorization === undefined || authorization === "") return { user: null };
  const token = bearerToken(authorization);
  if (!token) return { user: null, authError: "invalid" };
  const check = await verifyToken(deps.env.authSecret, token);
  if (!check.ok) return { user: null, authError: check.reason };
  const { claims } = check;
  const tokenSha256 = tokenDigest(token);
  const [row, signedOut] = await Promise.all([
    deps.prisma.user.findUnique({ where: { id: claims.sub } }),
    deps.prisma.revokedToken.findUnique({ where: { tokenSha256 }, select: { tokenSha256: true } }),
  ]);
  // Signed out, disabled, role changed, password changed, or renamed since the token was issued: revoked.
  if (
    signedOut ||
    !row ||
    row.disabled ||
    row.role !== claims.role ||
    row.login !== claims.login ||
    row.passwordChangedAt.getTime() !== claims.pwv ||
    !isRole(row.role)
  ) {
    return { user: null, authError: "revoked" };
  }
  return {
    user: { id: row.id, login: row.login, displayName: row.displayName, role: row.role },
    session: { tokenSha256, expiresAt: tokenExpiresAt(token) ?? new Date(Date.now() + deps.env.tokenTtlSeconds * 1000) },
  };
}

export async function buildContext(deps: Deps, req: { headers: { authorization?: string | undefined }; ip?: string | undefined }): Promise<Context> {
  const auth = await authenticate(deps, req.headers.authorization);
  return {
    ...deps,
    ...auth,
    loaders: createLoaders(deps.prisma),
    requestId: randomUUID(),
    ip: req.ip ?? "unknown",
  };
}
