import { describe, expect, it } from "vitest";
import { KeyedSemaphore, Semaphore, SlotTimeoutError } from "./semaphore.ts";

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

  it("per key: one key's holders do not block another key, and idle keys are dropped", async () => {
    const s = new KeyedSemaphore(2);
    const a1 = await s.acquire("a", 10);
    const a2 = await s.for("a").acquire(10);
    await expect(s.acquire("a", 20)).rejects.toBeInstanceOf(SlotTimeoutError);
    const b1 = await s.acquire("b", 10);
    expect(s.size).toBe(2);
    a1();
    a1();
    const a3 = await s.acquire("a", 10);
    for (const release of [a2, a3, b1]) release();
    expect(s.size).toBe(0);
  });
});
