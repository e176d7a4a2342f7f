import { describe, expect, it } from "vitest";
import { ApiError } from "@/lib/errors";
import { signInError } from "./signInError";

describe("sign-in failures", () => {
  it("say 'wrong login or password' only when the API said so; a server failure says the server", () => {
    expect(signInError(new ApiError("UNAUTHENTICATED", "Invalid login or password"))).toBeNull();
    expect(signInError(new ApiError("INTERNAL", "Something went wrong"))?.message).toMatch(/server cannot sign you in right now/);
    expect(signInError(new ApiError("UNAVAILABLE", "database down"))?.message).toMatch(/server cannot sign you in right now/);
    expect(signInError(new ApiError("RATE_LIMITED", "Account locked after repeated failed attempts"))?.message).toBe("Account locked after repeated failed attempts");
    expect(signInError(new ApiError("NETWORK", "fetch failed"))?.message).toBe("The server could not be reached.");
    expect(signInError(new Error("Your account has no valid role. Ask an administrator."))?.message).toMatch(/^Your account/);
    expect(signInError(new TypeError("cannot read x of undefined"))?.message).toMatch(/server cannot sign you in right now/);
  });
});
