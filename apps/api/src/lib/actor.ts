import type { AuthUser, Context } from "../context.ts";
import { unauthenticated } from "../errors.ts";

/** The acting user of an authorized operation (the policy already refused anonymous callers). */
export function actor(ctx: Pick<Context, "user">): AuthUser {
  if (!ctx.user) throw unauthenticated();
  return ctx.user;
}
