// GraphQL error codes agreed with the API, turned into messages a clinician can act on.
export const ERROR_CODES = ["UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND", "CONFLICT", "RATE_LIMITED", "UNAVAILABLE"] as const;
export type ErrorCode = (typeof ERROR_CODES)[number] | "NETWORK" | "INTERNAL";

const DEFAULT_MESSAGE: Record<ErrorCode, string> = {
  UNAUTHENTICATED: "Your session has ended. Please sign in again.",
  FORBIDDEN: "Your role does not allow this action.",
  BAD_USER_INPUT: "The request was not accepted.",
  NOT_FOUND: "Not found.",
  CONFLICT: "Someone else changed this record first. Reload to see the latest version.",
  RATE_LIMITED: "Too many attempts. Wait a moment and try again.",
  UNAVAILABLE: "The server cannot do this right now; nothing was changed. Tell your administrator if it persists.",
  NETWORK: "The server could not be reached. Check the connection and try again.",
  INTERNAL: "Something went wrong on the server. The action was not completed.",
};

/** Why the API ended a session (extensions.reason of UNAUTHENTICATED), where it says. */
export type SessionEndReason = "idle" | "expired";

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status?: number,
    readonly reason?: SessionEndReason,
    /** The sign-off needs the user ID typed as well (extensions.needsUserId): a new signing series. */
    readonly needsUserId = false,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function toErrorCode(value: unknown): ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value) ? (value as ErrorCode) : "INTERNAL";
}

interface GraphQLErrorLike {
  message?: unknown;
  extensions?: { code?: unknown; reason?: unknown; needsUserId?: unknown } | null;
}

/** First GraphQL error as an ApiError; the API's own message is kept where it is specific. */
export function fromGraphQLErrors(errors: readonly GraphQLErrorLike[], status?: number): ApiError {
  const first = errors[0] ?? {};
  const code = toErrorCode(first.extensions?.code);
  const apiMessage = typeof first.message === "string" ? first.message : "";
  // INTERNAL messages may carry server internals: show the generic text instead.
  const message = code === "INTERNAL" || !apiMessage ? DEFAULT_MESSAGE[code] : apiMessage;
  const reason = first.extensions?.reason;
  return new ApiError(code, message, status, reason === "idle" || reason === "expired" ? reason : undefined, first.extensions?.needsUserId === true);
}

/** Where a refused session goes: the session-ended page, told why when the API said so. */
export function sessionEndedUrl(returnTo: string, reason?: SessionEndReason): string {
  return `/session-ended?callbackUrl=${encodeURIComponent(returnTo)}${reason ? `&reason=${reason}` : ""}`;
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return DEFAULT_MESSAGE.NETWORK;
  return DEFAULT_MESSAGE.INTERNAL;
}

export function defaultMessage(code: ErrorCode): string {
  return DEFAULT_MESSAGE[code];
}
