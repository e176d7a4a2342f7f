import { GraphQLScalarType, Kind } from "graphql";
import type { Policy } from "../../auth/policy.ts";
import { ALL_ROLES } from "../../auth/roles.ts";
import { badInput } from "../../errors.ts";

/**
 * An ISO-8601 date-time with its zone (Z or an offset). Without one, "2026-11-20T08:30" would be
 * read in the server's zone, and `new Date` takes far worse ("5" is a date in 2001).
 */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

function parseDateTime(value: string): Date {
  const d = new Date(value);
  if (!ISO_WITH_ZONE.test(value) || Number.isNaN(d.getTime())) {
    throw badInput(`Invalid DateTime: ${value.slice(0, 40)} (ISO-8601 with a zone, e.g. 2026-11-20T08:30:00Z)`);
  }
  return d;
}

const DateTime = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === "string") return new Date(value).toISOString();
    throw new TypeError("DateTime: not a date");
  },
  parseValue(value) {
    if (typeof value !== "string") throw badInput("DateTime must be an ISO-8601 string");
    return parseDateTime(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw badInput("DateTime must be an ISO-8601 string");
    return parseDateTime(ast.value);
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
