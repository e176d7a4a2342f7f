import { GraphQLScalarType, Kind } from "graphql";
import type { Policy } from "../../auth/policy.ts";
import { ALL_ROLES } from "../../auth/roles.ts";
import { badInput } from "../../errors.ts";

/**
 * An ISO-8601 date-time with its zone (Z or an offset). Without one, "2026-11-20T08:30" would be
 * read in the server's zone, and `new Date` takes far worse ("5" is a date in 2001).
 */
const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * Also a date the calendar has: JavaScript would read 2026-02-31 as 3 March, and that collection
 * date would be signed. Exported for the audit CSV's filters (auditCsv.ts).
 */
export function parseDateTime(value: string): Date {
  const m = ISO_WITH_ZONE.exec(value);
  const d = new Date(value);
  const [year, month, day, hour, minute, second, offH, offM] = m ? [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0", m[9] ?? "0", m[10] ?? "0"].map(Number) : [];
  const real =
    m !== null &&
    !Number.isNaN(d.getTime()) &&
    month! >= 1 && month! <= 12 &&
    day! >= 1 && day! <= new Date(Date.UTC(year!, month!, 0)).getUTCDate() &&
    hour! <= 23 && minute! <= 59 && second! <= 59 && offH! <= 23 && offM! <= 59;
  if (!real) {
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
