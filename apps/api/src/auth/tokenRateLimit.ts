import { createHash } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { type AuthFailure, authenticate, BACKGROUND_HEADER, type Deps, rememberAuthentication } from "../context.ts";
import { FixedWindowLimiter } from "./rateLimit.ts";

/**
 * Express middleware: at most `perMinute` requests per user (GraphQL and REST alike), whatever
 * the number of sessions: signing in again gives a new token, not a new allowance. Each token
 * is first counted by a hash of itself (no token is kept in memory), before its signature or
 * session is checked, so a flood of one token costs the API almost nothing. The user's
 * allowance is charged only once the request has authenticated (a live session): a token that
 * was signed out, timed out or revoked by a password change still verifies until it expires,
 * and must not use up its owner's allowance. The authentication is kept for the request's
 * context, so it is done once. Requests without a token are left to the authorization policy
 * (they can only sign in, which has its own per-address limit).
 */
export function tokenRateLimit(perMinute: number, deps: Pick<Deps, "prisma" | "env">) {
  const limiter = new FixedWindowLimiter(perMinute, 60_000);
  const ended = new EndedTokens();
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (!header) return next();
    const digest = createHash("sha256").update(header).digest("base64url");
    let waitMs = limiter.hit(`token:${digest}`);
    if (waitMs === 0) {
      // A token whose session has ended never authenticates again: answered from memory, so a
      // replayed one costs no database work (it is charged to no user, having none).
      const known = ended.reason(digest);
      if (known) {
        rememberAuthentication(req, { user: null, authError: known, sessionEnded: true });
        return next();
      }
      let auth: Awaited<ReturnType<typeof authenticate>>;
      try {
        auth = await authenticate(deps, header, { background: req.headers[BACKGROUND_HEADER] === "1" });
      } catch {
        return next(); // the context authenticates again, and answers the failure as it does
      }
      rememberAuthentication(req, auth);
      if (auth.sessionEnded && auth.authError) ended.add(digest, auth.authError);
      if (auth.user) waitMs = limiter.hit(`user:${auth.user.id}`);
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

/** Digests of tokens whose session has ended, with why; the oldest forgotten past 10,000 (they then cost one lookup again). */
class EndedTokens {
  private readonly reasons = new Map<string, AuthFailure>();

  reason(digest: string): AuthFailure | undefined {
    return this.reasons.get(digest);
  }

  add(digest: string, why: AuthFailure): void {
    this.reasons.set(digest, why);
    if (this.reasons.size > 10_000) this.reasons.delete(this.reasons.keys().next().value as string);
  }
}
