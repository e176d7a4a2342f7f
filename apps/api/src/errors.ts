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
  "UNAVAILABLE",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
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
export const forbidden = (message = "Your role may not do this", details?: Record<string, unknown>) => new AppError("FORBIDDEN", message, details);
export const badInput = (message: string, details?: Record<string, unknown>) =>
  new AppError("BAD_USER_INPUT", message, details);
export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} not found`);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AppError("CONFLICT", message, details);
export const rateLimited = (message: string, details?: Record<string, unknown>) =>
  new AppError("RATE_LIMITED", message, details);
/** The server cannot do this now for a reason of its own (a full disk); nothing was changed. */
export const unavailable = (message: string) => new AppError("UNAVAILABLE", message);

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

/**
 * Duck-typed: under some loaders graphql's CJS and ESM builds both get loaded, and an error made
 * by one is not an instanceof the other's GraphQLError.
 */
function isGraphQLError(e: unknown): e is GraphQLError {
  // Apollo's own subclasses (ValidationError, SyntaxError, UserInputError...) carry other names.
  return e instanceof GraphQLError || (e instanceof Error && "extensions" in e && "locations" in e);
}

function isRequestError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5; depth++) {
    if (!isGraphQLError(e)) return false;
    if (!e.originalError) return true;
    e = e.originalError;
  }
  return false;
}

/** The innermost error of a wrapping chain (what a resolver actually threw), for the log. */
function rootCause(err: unknown): unknown {
  let e = err;
  for (let depth = 0; depth < 5 && isGraphQLError(e) && e.originalError; depth++) e = e.originalError;
  return e;
}

export type InternalErrorSink = (err: unknown) => void;

/**
 * Apollo formatError: keeps contract errors (also when graphql-js wrapped them, e.g. thrown by a
 * scalar while coercing variables), maps request errors that graphql-js or Apollo raised
 * themselves (parse, validation, variable coercion: no originalError) onto BAD_USER_INPUT, and
 * replaces everything else by a generic INTERNAL_SERVER_ERROR (reported to `sink` for the log).
 */
export function makeFormatError(sink: InternalErrorSink, { hideSchema = false } = {}) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const where = {
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
    };
    // graphql-js may wrap an error twice (variable coercion: GraphQLError -> GraphQLError -> AppError).
    let app: AppError | null = null;
    for (let e: unknown = original, depth = 0; e instanceof Error && depth < 5; depth++) {
      if (e instanceof AppError) {
        app = e;
        break;
      }
      e = isGraphQLError(e) ? e.originalError : undefined;
    }
    if (app) {
      const { stacktrace: _s, ...extensions } = app.extensions;
      return { message: formatted.message, ...where, extensions };
    }
    // Errors made by graphql-js or Apollo themselves (parse, validation, variable coercion, our
    // validation rules): a chain of GraphQL errors only. A plain Error anywhere in the chain is ours.
    if (isRequestError(original)) {
      const reason = formatted.extensions?.code;
      // With introspection off, no error may spell the schema out: Apollo's own option cleans
      // validation errors only, not those of variables or enum values ("Did you mean …?").
      const message = hideSchema ? formatted.message.replace(/ ?Did you mean .+\?$/, "") : formatted.message;
      return { message, ...where, extensions: { code: "BAD_USER_INPUT", ...(typeof reason === "string" && reason !== "BAD_USER_INPUT" ? { reason } : {}) } };
    }
    sink(rootCause(original));
    return { message: "Internal error", ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
