// In-process fixed-window limiter for login attempts per client address. The durable, shared
// protection is the per-account lockout in the database (5 failures -> 15 minutes); this one
// only slows a single address spraying many accounts.
export class FixedWindowLimiter {
  private windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one attempt; returns the ms to wait when over the limit, else 0. */
  hit(key: string): number {
    const t = this.now();
    if (this.windows.size > 10_000) this.sweep(t);
    const w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs) {
      this.windows.set(key, { start: t, count: 1 });
      return 0;
    }
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

  private sweep(t: number): void {
    for (const [k, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(k);
  }
}
