import { ApiError } from "@/lib/errors";

/**
 * What a failed sign-in tells the person at the login page: null for a wrong login or password
 * (NextAuth's "CredentialsSignin", the one answer that must not say which), else the error to show.
 * A server that cannot check the password (its database restarting, say) must not read as a
 * wrong password: everyone would retype theirs and call about their passwords instead.
 */
export function signInError(error: unknown): Error | null {
  if (error instanceof ApiError) {
    if (error.code === "UNAUTHENTICATED" || error.code === "BAD_USER_INPUT") return null;
    if (error.code === "RATE_LIMITED" || error.code === "FORBIDDEN") return new Error(error.message);
    if (error.code === "NETWORK") return new Error("The server could not be reached.");
    return new Error("The server cannot sign you in right now; try again in a moment, and tell your administrator if it lasts.");
  }
  if (error instanceof Error && error.message.startsWith("Your account")) return error;
  return new Error("The server cannot sign you in right now; try again in a moment, and tell your administrator if it lasts.");
}
