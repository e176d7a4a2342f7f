// When the anchoring worker writes: by the wall clock since its last line (timers stop while the
// host sleeps), and a heartbeat left out only after a recent line of its own clock's past.
import { describe, expect, it } from "vitest";
import { anchorDue, heartbeatSkippable } from "./anchorAuditHead.ts";

const MINUTE = 60_000;

describe("anchorDue", () => {
  it("is due with no line yet, once the interval has passed by the wall clock, and when the last line is later than now", () => {
    const now = Date.UTC(2026, 10, 28, 12, 0);
    expect(anchorDue(null, now, 10 * MINUTE)).toBe(true);
    expect(anchorDue(now - 9 * MINUTE, now, 10 * MINUTE)).toBe(false);
    expect(anchorDue(now - 10 * MINUTE, now, 10 * MINUTE)).toBe(true);
    // A laptop suspended for 8 hours: the first tick after it (a minute at most) writes.
    expect(anchorDue(now - 8 * 60 * MINUTE, now, 10 * MINUTE)).toBe(true);
    // This clock stepped back, or the last line came from a fast clock: stale, due.
    expect(anchorDue(now + 30 * MINUTE, now, 10 * MINUTE)).toBe(true);
  });
});

describe("heartbeatSkippable", () => {
  const head = { seq: 7n, hash: "a".repeat(64) };
  const now = new Date(Date.UTC(2026, 10, 28, 12, 0));
  const line = (minutesAgo: number, extra = {}) => ({ ...head, at: now, writtenAt: new Date(now.getTime() - minutesAgo * MINUTE), everyMinutes: 10, ...extra });

  it("skips only a line for the same head written less than half an interval before now, by this clock", () => {
    expect(heartbeatSkippable(line(4), head, now, 10)).toBe(true);
    expect(heartbeatSkippable(line(5), head, now, 10)).toBe(false);
    expect(heartbeatSkippable(line(1), { ...head, seq: 8n }, now, 10)).toBe(false);
    expect(heartbeatSkippable(null, head, now, 10)).toBe(false);
    // A fast writer's line, an hour ahead: stale, not recent.
    expect(heartbeatSkippable(line(-60), head, now, 10)).toBe(false);
    // A clean stop's line: a writer running again says so at once.
    expect(heartbeatSkippable(line(1, { stop: true }), head, now, 10)).toBe(false);
  });
});
