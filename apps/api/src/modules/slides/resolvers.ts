// The slides module's GraphQL part (uploads and images are REST routes: rest/router.ts).
import type { Policy } from "../../auth/policy.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { actor } from "../../lib/actor.ts";
import { voidSlide } from "./voidSlide.ts";
import { VOID_ROLES } from "./voidRules.ts";

export const resolvers: Resolvers = {
  Mutation: {
    voidSlide: (_p, args, ctx) => voidSlide(ctx.prisma, actor(ctx), args),
  },
};

export const policy: Policy = {
  "Mutation.voidSlide": VOID_ROLES,
};
