// Authorization, declared per operation and evaluated before EVERY root field resolver runs.
// Each module exports `policy` (operation -> allowed roles) from its resolvers.ts. At startup
// every Query/Mutation field of the schema must have an entry, or the server refuses to start:
// an operation someone forgot to declare can never be reachable (fail closed).
import type { GraphQLSchema } from "graphql";
import type { Role } from "@rcmnet/db";
import { AppError, forbidden } from "../errors.ts";
import type { AuthFailure, AuthUser, Context } from "../context.ts";
import { isRole } from "./roles.ts";

/** "PUBLIC": no identity needed (login only). Otherwise the roles allowed. */
export type Rule = "PUBLIC" | readonly Role[];
/** Keys are "Query.<field>" or "Mutation.<field>". */
export type Policy = Record<string, Rule>;

export function mergePolicies(policies: Policy[]): Policy {
  const merged: Policy = {};
  for (const policy of policies) {
    for (const [operation, rule] of Object.entries(policy)) {
      if (operation in merged) throw new Error(`authorization policy: ${operation} declared twice`);
      merged[operation] = rule;
    }
  }
  return merged;
}

/** Every root operation of the schema must be declared; extra declarations are typos. */
export function assertPolicyCoversSchema(schema: GraphQLSchema, policy: Policy): void {
  const operations = rootOperations(schema);
  const missing = operations.filter((op) => !(op in policy));
  const unknown = Object.keys(policy).filter((op) => !operations.includes(op));
  if (missing.length || unknown.length) {
    throw new Error(
      `authorization policy does not match the schema: missing ${JSON.stringify(missing)}, unknown ${JSON.stringify(unknown)}`,
    );
  }
}

export function rootOperations(schema: GraphQLSchema): string[] {
  const ops: string[] = [];
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    if (!type) continue;
    for (const field of Object.keys(type.getFields())) ops.push(`${type.name}.${field}`);
  }
  return ops;
}

/** The refusal of a request without an accepted session; `reason` lets the dashboard say why. */
function signInAgain(authError: AuthFailure | undefined, details: Record<string, unknown> = {}): AppError {
  if (authError === "expired") return new AppError("UNAUTHENTICATED", "Your session has expired; sign in again", { ...details, reason: "expired" });
  if (authError === "idle") return new AppError("UNAUTHENTICATED", "You were signed out after a period without activity; sign in again", { ...details, reason: "idle" });
  return new AppError("UNAUTHENTICATED", "Sign in first", details);
}

/** Returns the acting user or throws the refusal. An unknown operation is denied. */
export function authorize(policy: Policy, operation: string, ctx: Pick<Context, "user" | "authError">): AuthUser | null {
  const rule = policy[operation];
  // extensions.operation marks a refusal by this policy (the role-matrix test relies on it).
  if (rule === undefined) throw new AppError("FORBIDDEN", `Operation ${operation} is not permitted`, { operation });
  if (rule === "PUBLIC") return ctx.user;
  if (!ctx.user) throw signInAgain(ctx.authError, { operation });
  if (!isRole(ctx.user.role) || !rule.includes(ctx.user.role)) {
    throw new AppError("FORBIDDEN", `Role ${String(ctx.user.role)} may not perform ${operation}`, { operation });
  }
  if (ctx.user.mustChangePassword && !WITH_TEMPORARY_PASSWORD.has(operation)) throw temporaryPassword({ operation });
  return ctx.user;
}

/**
 * What a user with a password an administrator set may do: replace it, and nothing else. The
 * administrator knows that password, so anything more would let them act under the user's name.
 */
const WITH_TEMPORARY_PASSWORD = new Set(["Query.me", "Mutation.changeMyPassword", "Mutation.logout"]);

function temporaryPassword(details: Record<string, unknown> = {}): AppError {
  return new AppError("FORBIDDEN", "Choose a new password (Account) before anything else: yours was set by an administrator, or is older than this installation allows", { ...details, reason: "password_change_required" });
}

/** Same check for REST routes. */
export function requireRole(ctx: Pick<Context, "user" | "authError">, roles: readonly Role[]): AuthUser {
  if (!ctx.user) throw signInAgain(ctx.authError);
  if (!isRole(ctx.user.role) || !roles.includes(ctx.user.role)) throw forbidden();
  if (ctx.user.mustChangePassword) throw temporaryPassword();
  return ctx.user;
}
