import { describe, expect, it } from "vitest";
import { clock, idleSecondsLeft } from "./idle";

describe("idle sign-out warning", () => {
  const timeout = 30 * 60;
  it("stays hidden until two minutes before the timeout, then counts down to zero", () => {
    const t0 = 1_000_000;
    expect(idleSecondsLeft(t0, t0, timeout)).toBeNull();
    expect(idleSecondsLeft(t0, t0 + 27 * 60_000, timeout)).toBeNull();
    expect(idleSecondsLeft(t0, t0 + 28 * 60_000, timeout)).toBe(120);
    expect(idleSecondsLeft(t0, t0 + 29 * 60_000 + 500, timeout)).toBe(60);
    expect(idleSecondsLeft(t0, t0 + 40 * 60_000, timeout)).toBe(0);
  });
  it("prints minutes and seconds", () => {
    expect(clock(65)).toBe("1:05");
    expect(clock(0)).toBe("0:00");
  });
});
