import type { Policy } from "../../auth/policy.ts";
import { passwordExpiresAt } from "../../auth/passwordAge.ts";
import { ALL_ROLES } from "../../auth/roles.ts";
import { addressKey, FixedWindowLimiter } from "../../auth/rateLimit.ts";
import { badInput, notFound, rateLimited, unauthenticated } from "../../errors.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { login } from "./login.ts";
import { changeMyPassword } from "./changeMyPassword.ts";
import { logout } from "./logout.ts";
import { actor } from "../../lib/actor.ts";
import { selectsAny } from "../../lib/selection.ts";

/** Sign-in attempts per client address, one limiter per API instance. */
const loginLimiter = FixedWindowLimiter.perInstance(60_000);
/**
 * Password changes per user and minute (10, a human never needs more): each costs up to 6 argon2 checks (the current password
 * and the history), and a refused one changes nothing, so it could otherwise be repeated (or
 * aliased hundreds of times in one request) to burn the server's CPU.
 */
const passwordChangeLimiter = FixedWindowLimiter.perInstance(60_000);
const PASSWORD_CHANGES_PER_MINUTE = 10;

export const resolvers: Resolvers = {
  Query: {
    me: async (_p, _a, ctx) => (await ctx.loaders.userById.load(actor(ctx).id)) ?? Promise.reject(notFound("User")),
  },
  Mutation: {
    login: async (_p, args, ctx) => {
      const waitMs = loginLimiter(ctx.env, ctx.env.limits.loginAttemptsPerMinute).hit(addressKey(ctx.ip));
      if (waitMs > 0) throw rateLimited(`Too many sign-in attempts; retry in ${Math.ceil(waitMs / 1000)} s`);
      if (!args.login || !args.password) throw badInput("login and password are required");
      return login(ctx.prisma, ctx.env, args.login, args.password, ctx.ip);
    },
    changeMyPassword: (_p, args, ctx, info) => {
      const waitMs = passwordChangeLimiter(ctx.env, PASSWORD_CHANGES_PER_MINUTE).hit(actor(ctx).id);
      if (waitMs > 0) throw rateLimited(`Too many password changes; retry in ${Math.ceil(waitMs / 1000)} s`);
      return changeMyPassword(ctx.prisma, ctx.env, actor(ctx), args.currentPassword, args.newPassword, {
        openSession: selectsAny(info, ["token", "expiresAt"]),
      });
    },
    logout: (_p, _a, ctx) => {
      if (!ctx.session) throw unauthenticated("Not signed in");
      return logout(ctx.prisma, actor(ctx), ctx.session);
    },
  },
  AuthPayload: {
    token: async (p) => (await p.session()).token,
    expiresAt: async (p) => (await p.session()).expiresAt,
    passwordExpiresAt: (p, _a, ctx) => passwordExpiresAt(p.user, ctx.env),
    previousSignInAt: (p) => p.previousSignIn?.at ?? null,
    failedSignInsBefore: (p) => p.previousSignIn?.failedAttempts ?? null,
  },
};

export const policy: Policy = {
  "Query.me": ALL_ROLES,
  "Mutation.login": "PUBLIC",
  "Mutation.changeMyPassword": ALL_ROLES,
  "Mutation.logout": ALL_ROLES,
};
