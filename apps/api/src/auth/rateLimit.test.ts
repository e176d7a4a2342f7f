import { describe, expect, it } from "vitest";
import { addressKey, FixedWindowLimiter } from "./rateLimit.ts";

describe("addressKey", () => {
  it("counts an IPv6 client by its /64, an IPv4-mapped one as IPv4, IPv4 as itself", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::5")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(addressKey("10.1.2.3")).toBe("10.1.2.3");
  });
});

describe("FixedWindowLimiter", () => {
  it("refuses over the limit until the window ends", () => {
    let t = 0;
    const limiter = new FixedWindowLimiter(2, 1_000, () => t);
    expect([limiter.hit("a"), limiter.hit("a"), limiter.hit("a")]).toEqual([0, 0, 1_000]);
    t = 1_000;
    expect(limiter.hit("a")).toBe(0);
  });

  it("stays bounded under a flood of distinct keys within one window, keeping recent counts", () => {
    const t = 0;
    const limiter = new FixedWindowLimiter(1, 60_000, () => t);
    for (let i = 0; i < 25_000; i++) limiter.hit(`k${i}`);
    expect(limiter.size).toBeLessThanOrEqual(10_001);
    // The newest keys are still counted.
    expect(limiter.hit("k24999")).toBeGreaterThan(0);
  });

  it("evicts the longest-idle keys, never a busy one, under a flood of strangers", () => {
    const limiter = new FixedWindowLimiter(10, 60_000, () => 0);
    const busy: number[] = [];
    for (let i = 0; i < 11_000; i++) {
      if (i % 1_000 === 0) busy.push(limiter.hit("busy"));
      limiter.hit(`junk${i}`);
    }
    // Its eleventh request in the window is refused: its count survived the evictions.
    expect(busy.slice(0, 10).every((w) => w === 0)).toBe(true);
    expect(busy[10]).toBeGreaterThan(0);
  });
});
