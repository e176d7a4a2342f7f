import { describe, expect, it } from "vitest";
import { sharedRunner } from "./sharedRunner.ts";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("sharedRunner", () => {
  it("shares a run under way with callers of the same key, and runs other keys one at a time", async () => {
    const run = sharedRunner(1, 1_000, "busy");
    let active = 0;
    let most = 0;
    let calls = 0;
    const work = (v: string) => async () => {
      calls++;
      most = Math.max(most, ++active);
      await tick();
      active--;
      return v;
    };
    const [a, b, c] = await Promise.all([run("k", work("a")), run("k", work("b")), run("other", work("c"))]);
    expect([a, b, c]).toEqual(["a", "a", "c"]);
    expect(calls).toBe(2);
    expect(most).toBe(1);
    // Once answered, the key runs again.
    expect(await run("k", work("d"))).toBe("d");
  });

  it("tells a caller that waited too long for a slot that the server is busy, and forgets failed runs", async () => {
    const run = sharedRunner(1, 10, "Another comparison is running");
    const slow = run("a", () => new Promise((r) => setTimeout(() => r("slow"), 100)));
    await expect(run("b", async () => "b")).rejects.toMatchObject({ extensions: { code: "RATE_LIMITED" } });
    await slow;
    await expect(run("c", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await run("c", async () => "again")).toBe("again");
  });
});
