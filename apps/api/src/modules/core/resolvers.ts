import { GraphQLScalarType, Kind } from "graphql";
import type { Policy } from "../../auth/policy.ts";
import { ALL_ROLES } from "../../auth/roles.ts";
import { badInput } from "../../errors.ts";

const DateTime = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === "string") return new Date(value).toISOString();
    throw new TypeError("DateTime: not a date");
  },
  parseValue(value) {
    if (typeof value !== "string") throw badInput("DateTime must be an ISO-8601 string");
    const d = new Date(value);
    if (Number.isNaN(d.getTime())) throw badInput(`Invalid DateTime: ${value.slice(0, 40)}`);
    return d;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw badInput("DateTime must be an ISO-8601 string");
    const d = new Date(ast.value);
    if (Number.isNaN(d.getTime())) throw badInput(`Invalid DateTime: ${ast.value.slice(0, 40)}`);
    return d;
  },
});

const JSONScalar = new GraphQLScalarType({
  name: "JSON",
  serialize: (v) => v,
  parseValue: (v) => v,
});

export const resolvers = {
  DateTime,
  JSON: JSONScalar,
  Query: { apiVersion: () => "1" },
  Mutation: { _noop: () => null },
};

export const policy: Policy = {
  "Query.apiVersion": ALL_ROLES,
  // Placeholder root field so Mutation is never empty; refused to everyone.
  "Mutation._noop": [],
};
