import { createHash } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { FixedWindowLimiter } from "./rateLimit.ts";

/**
 * Express middleware: at most `perMinute` requests per bearer token (GraphQL and REST alike).
 * Keyed by a hash of the token, so no token is kept in memory; checked before any database
 * work, so a flood costs the API almost nothing. Requests without a token are left to the
 * authorization policy (they can only sign in, which has its own per-address limit).
 */
export function tokenRateLimit(perMinute: number) {
  const limiter = new FixedWindowLimiter(perMinute, 60_000);
  return (req: Request, res: Response, next: NextFunction) => {
    const token = req.headers.authorization;
    if (!token) return next();
    const waitMs = limiter.hit(createHash("sha256").update(token).digest("base64url"));
    if (waitMs === 0) return next();
    const retryAfter = Math.ceil(waitMs / 1000);
    res.setHeader("Retry-After", String(retryAfter));
    res.status(429).json({
      errors: [
        {
          message: `Too many requests for this session; retry in ${retryAfter} s`,
          extensions: { code: "RATE_LIMITED" },
        },
      ],
    });
  };
}
