import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { AppError, makeFormatError } from "./errors.ts";

describe("formatError (the error contract)", () => {
  const sunk: unknown[] = [];
  const format = makeFormatError((e) => sunk.push(e));
  const asResolverError = (original: Error) => new GraphQLError(original.message, { path: ["x"], originalError: original });

  it("masks an unexpected error: no message, no stack, no SQL; reports it to the log sink", () => {
    const leaky = new Error('relation "user" violates constraint; SELECT * FROM "user" WHERE login = $1');
    const out = format({ message: leaky.message, path: ["x"], extensions: { code: "INTERNAL_SERVER_ERROR", stacktrace: ["at x.ts:1"] } }, asResolverError(leaky));
    expect(out).toEqual({ message: "Internal error", path: ["x"], extensions: { code: "INTERNAL_SERVER_ERROR" } });
    expect(sunk).toContain(leaky);
  });

  it("keeps contract errors, also when graphql-js wrapped them twice", () => {
    const app = new AppError("CONFLICT", "stale", { currentReviewCount: 2 });
    expect(format({ message: "stale", extensions: { code: "CONFLICT", stacktrace: ["x"] } }, asResolverError(app)).extensions).toEqual({ code: "CONFLICT", currentReviewCount: 2 });
    const wrapped = new GraphQLError("Variable $x got invalid value", { originalError: new GraphQLError("Expected type", { originalError: new AppError("BAD_USER_INPUT", "bad date") }) });
    expect(format({ message: wrapped.message }, wrapped).extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("maps graphql-js request errors (validation, parse) onto BAD_USER_INPUT", () => {
    const v = new GraphQLError('Cannot query field "secrets" on type "Query".');
    expect(format({ message: v.message, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }, v).extensions).toEqual({ code: "BAD_USER_INPUT", reason: "GRAPHQL_VALIDATION_FAILED" });
  });
});
