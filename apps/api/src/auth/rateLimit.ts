// In-process fixed-window limiter for login attempts per client address. The durable, shared
// protection is the per-account lockout in the database (5 failures -> 15 minutes); this one
// only slows a single address spraying many accounts.
const MAX_KEYS = 10_000;

/**
 * The key of a client address: an IPv6 client is counted by its /64 (one subscriber's or
 * host's network; it can pick any of 2^64 addresses in it), an IPv4-mapped one as IPv4.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("%")[0]!.split("::");
  const left = head ? head.split(":") : [];
  const right = ip.includes("::") ? (tail ? tail.split(":") : []) : [];
  const groups = ip.includes("::") ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

export class FixedWindowLimiter {
  private windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private lastSweep = 0;

  /** Counts one attempt; returns the ms to wait when over the limit, else 0. */
  hit(key: string): number {
    const t = this.now();
    this.bound(t);
    const w = this.windows.get(key);
    // Every hit moves its key to the end (a Map keeps a key's first insertion place otherwise),
    // so eviction takes the longest-idle keys, never a busy one.
    this.windows.delete(key);
    if (!w || t - w.start >= this.windowMs) {
      this.windows.set(key, { start: t, count: 1 });
      return 0;
    }
    this.windows.set(key, w);
    w.count += 1;
    return w.count > this.limit ? w.start + this.windowMs - t : 0;
  }

  /**
   * A getter of one limiter per API instance (keyed by its env object, so every test API
   * counts on its own), created on first use with the instance's limit.
   */
  static perInstance(windowMs: number): (instance: object, limit: number) => FixedWindowLimiter {
    const limiters = new WeakMap<object, FixedWindowLimiter>();
    return (instance, limit) => {
      let limiter = limiters.get(instance);
      if (!limiter) {
        limiter = new FixedWindowLimiter(limit, windowMs);
        limiters.set(instance, limiter);
      }
      return limiter;
    };
  }

  /**
   * Keeps the map small without scanning it on every hit: ended windows are swept at most once
   * a window; a flood of distinct keys within one window evicts the oldest (a Map iterates in
   * insertion order), which at worst forgets a count, never refuses a stranger.
   */
  private bound(t: number): void {
    if (this.windows.size <= MAX_KEYS) return;
    if (t - this.lastSweep >= this.windowMs) {
      this.lastSweep = t;
      for (const [k, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(k);
    }
    for (const k of this.windows.keys()) {
      if (this.windows.size <= MAX_KEYS) break;
      this.windows.delete(k);
    }
  }

  /** Keys held now (for tests). */
  get size(): number {
    return this.windows.size;
  }
}
