import { describe, expect, it } from "vitest";
import { buildSchema as buildGraphQLSchema } from "graphql";
import { assertPolicyCoversSchema, authorize, mergePolicies } from "./policy.ts";

const schema = buildGraphQLSchema(`type Query { a: Int b: Int } type Mutation { m: Int }`);

describe("authorization policy", () => {
  it("refuses to start when an operation has no declaration, or a declaration names no operation", () => {
    expect(() => assertPolicyCoversSchema(schema, { "Query.a": ["ADMIN"], "Mutation.m": ["ADMIN"] })).toThrow(/missing \["Query.b"\]/);
    expect(() => assertPolicyCoversSchema(schema, { "Query.a": [], "Query.b": [], "Mutation.m": [], "Query.typo": [] })).toThrow(/unknown \["Query.typo"\]/);
    expect(() => mergePolicies([{ "Query.a": [] }, { "Query.a": ["ADMIN"] }])).toThrow(/declared twice/);
  });

  it("fails closed: unknown operation, no user, unknown role", () => {
    const policy = { "Query.a": ["ADMIN"] as const, "Mutation.login": "PUBLIC" as const };
    const admin = { id: "1", login: "a", displayName: "A", role: "ADMIN" as const };
    expect(authorize(policy, "Query.a", { user: admin })).toBe(admin);
    expect(() => authorize(policy, "Query.zzz", { user: admin })).toThrow(/not permitted/);
    expect(() => authorize(policy, "Query.a", { user: null })).toThrow(/Sign in/);
    expect(() => authorize(policy, "Query.a", { user: null, authError: "expired" })).toThrow(/expired/);
    expect(() => authorize(policy, "Query.a", { user: { ...admin, role: "SUPERUSER" as never } })).toThrow(/may not/);
    expect(() => authorize(policy, "Query.a", { user: { ...admin, role: undefined as never } })).toThrow(/may not/);
    expect(authorize(policy, "Mutation.login", { user: null })).toBeNull();
  });
});
