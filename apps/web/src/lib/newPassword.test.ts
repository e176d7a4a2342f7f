import { describe, expect, it } from "vitest";
import { newPasswordProblem } from "./newPassword";

describe("a new password typed twice", () => {
  it("is ready only when long enough and typed the same both times, and says why not", () => {
    expect(newPasswordProblem("short", "short")).toBe("At least 10 characters.");
    expect(newPasswordProblem("long enough pass", "")).toBe("Type the password again to confirm it.");
    expect(newPasswordProblem("long enough pass", "long enough pas")).toBe("The two passwords differ.");
    // Kept as typed: a trailing space is part of the password.
    expect(newPasswordProblem("long enough pass", "long enough pass ")).toBe("The two passwords differ.");
    expect(newPasswordProblem("long enough pass", "long enough pass")).toBeNull();
  });
});
