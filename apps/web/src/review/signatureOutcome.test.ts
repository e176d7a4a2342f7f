import { describe, expect, it } from "vitest";
import { ApiError } from "@/lib/errors";
import { outcomeUnknown, READ_BACK_DELAYS_MS, signatureLanded, signatureLandedAfterAll } from "./signatureOutcome";

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

describe("reading the case back after a lost answer", () => {
  const noWait = async () => {};

  it("waits the delays in turn and stops at the read that shows the signature (it may land a moment late)", async () => {
    const waited: number[] = [];
    const answers = [read(0, null), read(1, 1)];
    const landed = await signatureLandedAfterAll(async () => answers.shift() ?? null, 0, "hema", async (ms) => void waited.push(ms));
    expect(landed).toBe(true);
    expect(waited).toEqual(READ_BACK_DELAYS_MS.slice(0, 2));
    expect(READ_BACK_DELAYS_MS[0]).toBe(0);
  });

  it("reads every time before giving up, a failed read counting as not shown", async () => {
    let reads = 0;
    const failing = async () => {
      reads++;
      throw new TypeError("Failed to fetch");
    };
    expect(await signatureLandedAfterAll(failing, 0, "hema", noWait)).toBe(false);
    expect(reads).toBe(READ_BACK_DELAYS_MS.length);
    expect(await signatureLandedAfterAll(async () => read(2, 2, "drb"), 1, "hema", noWait)).toBe(false);
  });
});
