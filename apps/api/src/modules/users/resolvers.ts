import type { Policy } from "../../auth/policy.ts";
import { mustChangePasswordNow } from "../../auth/passwordAge.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { actor } from "../../lib/actor.ts";
import { decodeCursor, isUuid, PAGE_LIMITS, pageSize, toConnection } from "../../lib/pagination.ts";
import { changeUserRole, createUser, resetUserPassword, setUserDisabled, unlockUser } from "./manageUsers.ts";

export const resolvers: Resolvers = {
  Query: {
    users: async (_p, args, ctx) => {
      const size = pageSize(args.first, PAGE_LIMITS["Query.users"]);
      const after = args.after ? decodeCursor(args.after) : null;
      if (after !== null && !isUuid(after)) return toConnection([], size, () => "");
      const rows = await ctx.prisma.user.findMany({
        where: args.includeDisabled ? {} : { disabled: false },
        orderBy: [{ login: "asc" }, { id: "asc" }],
        take: size + 1,
        ...(after ? { cursor: { id: after }, skip: 1 } : {}),
      });
      return toConnection(rows, size, (u) => u.id);
    },
  },
  Mutation: {
    createUser: (_p, args, ctx) => createUser(ctx.prisma, actor(ctx), args.input),
    setUserDisabled: (_p, args, ctx) => setUserDisabled(ctx.prisma, actor(ctx), args),
    resetUserPassword: (_p, args, ctx) => resetUserPassword(ctx.prisma, actor(ctx), args),
    changeUserRole: (_p, args, ctx) => changeUserRole(ctx.prisma, actor(ctx), args),
    unlockUser: (_p, args, ctx) => unlockUser(ctx.prisma, actor(ctx), args),
  },
  // A user is reachable from many records (createdBy, reviewer, signer, uploadedBy); whether an
  // account is locked out or disabled right now is for those who manage accounts (and yourself),
  // not for every reader of a case: it would show who is under a password-guessing attack, or
  // whose account was just taken away (a departure, an investigation).
  User: {
    disabled: (u, _a, ctx) => (readsAccountState(ctx.user, u.id) ? u.disabled : null),
    lockedUntil: (u, _a, ctx) => (readsAccountState(ctx.user, u.id) ? u.lockedUntil : null),
    // A temporary password, or one older than the install allows (auth/passwordAge.ts).
    mustChangePassword: (u, _a, ctx) => (readsAccountState(ctx.user, u.id) ? mustChangePasswordNow(u, ctx.env) : null),
  },
};

const ACCOUNT_STATE_READERS: readonly string[] = ["ADMIN", "AUDITOR"];
const readsAccountState = (user: { id: string; role: string } | null, id: string) => Boolean(user && (ACCOUNT_STATE_READERS.includes(user.role) || user.id === id));

export const policy: Policy = {
  "Query.users": ["ADMIN", "AUDITOR"],
  "Mutation.createUser": ["ADMIN"],
  "Mutation.setUserDisabled": ["ADMIN"],
  "Mutation.resetUserPassword": ["ADMIN"],
  "Mutation.changeUserRole": ["ADMIN"],
  "Mutation.unlockUser": ["ADMIN"],
};
