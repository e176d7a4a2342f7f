import { createHash } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { bearerToken } from "../context.ts";
import { FixedWindowLimiter } from "./rateLimit.ts";
import { verifyToken } from "./tokens.ts";

/**
 * Express middleware: at most `perMinute` requests per user (GraphQL and REST alike), whatever
 * the number of sessions: signing in again gives a new token, not a new allowance. A token whose
 * signature does not verify is counted by a hash of itself (no token is kept in memory; it is
 * refused anyway). Checked before any database work (the signature check is an HMAC, cached), so
 * a flood costs the API almost nothing. Requests without a token are left to the authorization
 * policy (they can only sign in, which has its own per-address limit).
 */
export function tokenRateLimit(perMinute: number, secret: string) {
  const limiter = new FixedWindowLimiter(perMinute, 60_000);
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (!header) return next();
    const token = bearerToken(header);
    const check = token ? await verifyToken(secret, token) : null;
    const key = check?.ok ? `user:${check.claims.sub}` : `token:${createHash("sha256").update(header).digest("base64url")}`;
    const waitMs = limiter.hit(key);
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
