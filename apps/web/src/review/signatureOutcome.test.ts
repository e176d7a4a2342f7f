import { describe, expect, it } from "vitest";
import { ApiError } from "@/lib/errors";
import { outcomeUnknown, signatureLanded } from "./signatureOutcome";

const read = (reportVersion: number, version: number | null, login = "hema") => ({
  reportVersion,
  currentSignOff: version === null ? null : { version, signer: { login } },
});

describe("a signature whose answer was lost", () => {
  it("is checked only where the API may have acted: a failed connection or no GraphQL answer", () => {
    expect(outcomeUnknown(new ApiError("NETWORK", "x"))).toBe(true);
    expect(outcomeUnknown(new ApiError("INTERNAL", "x", 502))).toBe(true);
    expect(outcomeUnknown(new TypeError("Failed to fetch"))).toBe(true);
    for (const code of ["CONFLICT", "FORBIDDEN", "BAD_USER_INPUT", "UNAUTHENTICATED", "RATE_LIMITED"] as const) {
      expect(outcomeUnknown(new ApiError(code, "x")), code).toBe(false);
    }
  });

  it("landed when the case is at the next version, signed by this user", () => {
    expect(signatureLanded(read(1, 1), 0, "hema")).toBe(true);
    expect(signatureLanded(read(3, 3), 2, "hema")).toBe(true);
  });

  it("did not land when the case is unchanged, was signed by someone else, or moved on further", () => {
    expect(signatureLanded(read(0, null), 0, "hema")).toBe(false);
    expect(signatureLanded(read(2, 2), 2, "hema")).toBe(false);
    expect(signatureLanded(read(1, 1, "drb"), 0, "hema")).toBe(false);
    expect(signatureLanded(read(2, 2), 0, "hema")).toBe(false);
    expect(signatureLanded(null, 0, "hema")).toBe(false);
  });
});
