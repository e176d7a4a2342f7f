// API bearer tokens: HS256 JWTs (jose). Claims: sub (user id), role, login, pwv (the user's
// passwordChangedAt in ms). Every request reloads the user and compares role and pwv, so a
// password change, a role change or disabling the account revokes every older token at once.
import { createHash, randomUUID } from "node:crypto";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import type { Role } from "@rcmnet/db";

export const ISSUER = "rcmnet-api";
export const AUDIENCE = "rcmnet";

export interface TokenClaims {
  sub: string;
  role: Role;
  login: string;
  pwv: number;
}

const key = (secret: string) => new TextEncoder().encode(secret);

export async function issueToken(
  secret: string,
  claims: TokenClaims,
  ttlSeconds: number,
): Promise<{ token: string; expiresAt: Date }> {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + ttlSeconds;
  const token = await new SignJWT({ role: claims.role, login: claims.login, pwv: claims.pwv })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    // Unique per sign-in, so that two sign-ins in one second are two tokens (signing out revokes one).
    .setJti(randomUUID())
    .sign(key(secret));
  return { token, expiresAt: new Date(exp * 1000) };
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: "expired" | "invalid" };

/**
 * Verified tokens, by their exact string, until they expire: the HMAC check through WebCrypto
 * costs ~0.5 ms per request, and a session sends the same token many times. Only successful
 * verifications are cached; the user is still re-checked against the database every request.
 */
const verified = new Map<string, { secret: string; claims: TokenClaims; expMs: number }>();
const MAX_CACHED_TOKENS = 10_000;

export async function verifyToken(secret: string, token: string): Promise<TokenCheck> {
  const hit = verified.get(token);
  if (hit && hit.secret === secret) {
    if (hit.expMs > Date.now()) return { ok: true, claims: hit.claims };
    verified.delete(token);
    return { ok: false, reason: "expired" };
  }
  const check = await verifyTokenUncached(secret, token);
  if (check.ok) {
    if (verified.size >= MAX_CACHED_TOKENS) verified.clear();
    const exp = decodeExp(token);
    if (exp !== null) verified.set(token, { secret, claims: check.claims, expMs: exp * 1000 });
  }
  return check;
}

/** What a signed-out token is remembered by: its sha256, never the token itself. */
export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** When a (verified) token expires. */
export function tokenExpiresAt(token: string): Date | null {
  const exp = decodeExp(token);
  return exp === null ? null : new Date(exp * 1000);
}

function decodeExp(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: unknown };
    return typeof payload.exp === "number" ? payload.exp : null;
  } catch {
    return null;
  }
}

async function verifyTokenUncached(secret: string, token: string): Promise<TokenCheck> {
  try {
    const { payload } = await jwtVerify(token, key(secret), {
      algorithms: ["HS256"], // pinned: "none" and key-confusion tricks are refused
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const { sub, role, login, pwv } = payload as Record<string, unknown>;
    // A missing or mistyped claim is a refusal (fail closed), never a default.
    if (typeof sub !== "string" || typeof role !== "string" || typeof login !== "string" || typeof pwv !== "number") {
      return { ok: false, reason: "invalid" };
    }
    return { ok: true, claims: { sub, role: role as Role, login, pwv } };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: "expired" };
    return { ok: false, reason: "invalid" };
  }
}
