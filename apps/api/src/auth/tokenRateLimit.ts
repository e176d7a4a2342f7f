import { createHash } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { bearerToken } from "../context.ts";
import { FixedWindowLimiter } from "./rateLimit.ts";
import { verifyToken } from "./tokens.ts";

/**
 * Express middleware: at most `perMinute` requests per user (GraphQL and REST alike), whatever
 * the number of sessions: signing in again gives a new token, not a new allowance. Each token
 * is also counted by a hash of itself (no token is kept in memory), before its signature is
 * checked. All before any database work, so a flood costs the API almost nothing. Requests
 * without a token are left to the authorization policy (they can only sign in, which has its own
 * per-address limit).
 */
export function tokenRateLimit(perMinute: number, secret: string) {
  const limiter = new FixedWindowLimiter(perMinute, 60_000);
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (!header) return next();
    // Counted by the header first, so a flood of one forged token is refused before its
    // signature is checked (a token not seen before costs a WebCrypto HMAC).
    let waitMs = limiter.hit(`token:${createHash("sha256").update(header).digest("base64url")}`);
    if (waitMs === 0) {
      const token = bearerToken(header);
      const check = token ? await verifyToken(secret, token) : null;
      // Per password version too: a leaked token revoked by a password change keeps verifying
      // until it expires, and must not use up the allowance of the user's new sessions.
      if (check?.ok) waitMs = limiter.hit(`user:${check.claims.sub}:${check.claims.pwv}`);
    }
    if (waitMs === 0) return next();
    const retryAfter = Math.ceil(waitMs / 1000);
    res.setHeader("Retry-After", String(retryAfter));
    res.status(429).json({
      errors: [
        {
          message: `Too many requests for this user; retry in ${retryAfter} s`,
          extensions: { code: "RATE_LIMITED" },
        },
      ],
    });
  };
}
