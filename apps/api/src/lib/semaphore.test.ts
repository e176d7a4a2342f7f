import { describe, expect, it } from "vitest";
import { Semaphore, SlotTimeoutError } from "./semaphore.ts";

describe("semaphore", () => {
  it("lets N holders in, queues the next in order, and times a waiter out", async () => {
    const s = new Semaphore(2);
    const a = await s.acquire(10);
    const b = await s.acquire(10);
    const order: string[] = [];
    const c = s.acquire(1_000).then((release) => {
      order.push("c");
      return release;
    });
    await expect(s.acquire(20)).rejects.toBeInstanceOf(SlotTimeoutError);
    a();
    a(); // releasing twice frees one slot only
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    await expect(s.acquire(20)).rejects.toBeInstanceOf(SlotTimeoutError);
    b();
    releaseC();
    const d = await s.acquire(10);
    const e = await s.acquire(10);
    d();
    e();
    expect(() => new Semaphore(0)).toThrow(/slots/);
  });
});
