// The error contract shared with the web app: every refusal is a GraphQL error whose
// extensions.code is one of ErrorCode. Anything else that escapes a resolver is an internal
// error and is masked (formatError below): no stack trace, no SQL, no Prisma message.
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";

export const ERROR_CODES = [
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "BAD_USER_INPUT",
  "NOT_FOUND",
  "CONFLICT",
  "RATE_LIMITED",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
};

export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message, { extensions: { code, ...details } });
    this.name = "AppError";
  }
  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}

export const unauthenticated = (message = "Sign in first") => new AppError("UNAUTHENTICATED", message);
export const forbidden = (message = "Your role may not do this") => new AppError("FORBIDDEN", message);
export const badInput = (message: string, details?: Record<string, unknown>) =>
  new AppError("BAD_USER_INPUT", message, details);
export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} not found`);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AppError("CONFLICT", message, details);
export const rateLimited = (message: string, details?: Record<string, unknown>) =>
  new AppError("RATE_LIMITED", message, details);

/** Prisma's unique-constraint violation (also raised through a driver adapter). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown }; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } };
  return (
    e?.code === "P2002" ||
    e?.code === "23505" ||
    e?.cause?.code === "23505" ||
    e?.meta?.driverAdapterError?.cause?.originalCode === "23505"
  );
}

/** Apollo's own codes for malformed requests map onto BAD_USER_INPUT: the client sent it. */
const CLIENT_REQUEST_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

export type InternalErrorSink = (err: unknown) => void;

/**
 * Apollo formatError: keeps contract errors, maps request errors onto BAD_USER_INPUT, and
 * replaces everything else by a generic INTERNAL_SERVER_ERROR (reported to `sink` for the log).
 */
export function makeFormatError(sink: InternalErrorSink) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const base = { message: formatted.message, ...(formatted.path ? { path: formatted.path } : {}) };
    if (original instanceof AppError) {
      const { stacktrace: _s, ...extensions } = formatted.extensions ?? {};
      return { ...base, ...(formatted.locations ? { locations: formatted.locations } : {}), extensions };
    }
    const code = formatted.extensions?.code;
    if (typeof code === "string" && CLIENT_REQUEST_CODES.has(code) && !(original instanceof Error && !(original instanceof GraphQLError))) {
      return { ...base, ...(formatted.locations ? { locations: formatted.locations } : {}), extensions: { code: "BAD_USER_INPUT", reason: code } };
    }
    sink(original);
    return { message: "Internal error", ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
