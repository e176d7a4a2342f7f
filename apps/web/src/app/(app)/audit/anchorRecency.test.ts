import { describe, expect, it } from "vitest";
import { type AnchorRecency, anchorRecency, anchorRecencyFails } from "./anchorRecency";

// A live worker anchoring every 10 minutes (grace 25), its newest line at 09:10, every event anchored.
const alive: AnchorRecency = {
  checked: true,
  anchorMinutes: 10,
  intervalDeclared: true,
  graceMinutes: 25,
  lastWrittenAt: "2026-11-26T09:10:00.000Z",
  unanchoredFromSeq: null,
  unanchoredToSeq: null,
  unanchoredSince: null,
  stoppedCleanly: false,
  writerSilent: false,
  writtenInFuture: false,
  intervalTooLong: false,
  eventsOverdue: false,
  overdue: false,
  problem: null,
};
const notChecked: AnchorRecency = { ...alive, checked: false, anchorMinutes: 0, intervalDeclared: false, graceMinutes: null, lastWrittenAt: null };
const awaiting = { unanchoredFromSeq: "41", unanchoredToSeq: "43", unanchoredSince: "2026-11-26T09:12:00.000Z" };

describe("the audit page's anchoring line", () => {
  it("not checked, anchoring off: says so, passes, no detail", () => {
    expect(anchorRecency(notChecked)).toEqual({ summary: "anchoring off: not checked that new events get anchored", detail: null });
    expect(anchorRecencyFails(notChecked)).toBe(false);
  });

  it("not checked although anchoring was on: fails", () => {
    const r = { ...notChecked, problem: "RCMNET_AUDIT_ANCHOR_MINUTES is 0 for this check (anchoring off), but … holds anchors" };
    expect(anchorRecency(r)).toEqual({ summary: "anchoring NOT CHECKED although it was on (RCMNET_AUDIT_ANCHOR_MINUTES 0 on the API)", detail: null });
    expect(anchorRecencyFails(r)).toBe(true);
  });

  it("every event anchored: the interval, who declared it, and the newest line's time", () => {
    expect(anchorRecency(alive)).toEqual({
      summary: "every event anchored",
      detail: "anchored every 10 min (declared by the anchor file); anchor file's newest line written 2026-11-26 09:10:00 UTC",
    });
    expect(anchorRecencyFails(alive)).toBe(false);
  });

  it("events awaiting their anchor: since when, and due by when (their time plus the grace period)", () => {
    const r = { ...alive, ...awaiting, intervalDeclared: false };
    expect(anchorRecency(r)).toEqual({
      summary: "events 41–43 since 2026-11-26 09:12:00 UTC await their anchor (due by 2026-11-26 09:37:00 UTC)",
      detail: "anchored every 10 min (the API's setting); anchor file's newest line written 2026-11-26 09:10:00 UTC",
    });
    expect(anchorRecency({ ...r, unanchoredToSeq: "41" }).summary).toMatch(/^event 41 since /);
    expect(anchorRecencyFails(r)).toBe(false);
  });

  it("says when the anchor file has no line yet", () => {
    expect(anchorRecency({ ...alive, lastWrittenAt: null }).detail).toBe("anchored every 10 min (declared by the anchor file); no line in the anchor file yet");
  });

  it("stopped cleanly: when, and that nothing happened since; not alarming", () => {
    const r = { ...alive, stoppedCleanly: true, lastWrittenAt: "2026-11-20T18:00:00.000Z" };
    expect(anchorRecency(r)).toEqual({
      summary: "anchoring worker stopped cleanly at 2026-11-20 18:00:00 UTC; no events since",
      detail: "anchored every 10 min (declared by the anchor file)",
    });
    expect(anchorRecencyFails(r)).toBe(false);
  });

  it("writer silent: anchoring stopped, since when; fails", () => {
    const r = { ...alive, writerSilent: true, overdue: true, problem: "nothing has been written to …" };
    expect(anchorRecency(r)).toEqual({
      summary: "ANCHORING STOPPED: nothing written to the anchor file since 2026-11-26 09:10:00 UTC (over 25 min)",
      detail: "anchored every 10 min (declared by the anchor file)",
    });
    expect(anchorRecencyFails(r)).toBe(true);
  });

  it("events overdue: which, since when; fails; both signs are said when both hold", () => {
    const r = { ...alive, ...awaiting, eventsOverdue: true, overdue: true, problem: "events #41-#43 are not anchored …" };
    expect(anchorRecency(r)).toEqual({
      summary: "ANCHORING STOPPED: events 41–43 unanchored since 2026-11-26 09:12:00 UTC (over 25 min)",
      detail: "anchored every 10 min (declared by the anchor file); anchor file's newest line written 2026-11-26 09:10:00 UTC",
    });
    expect(anchorRecencyFails(r)).toBe(true);
    expect(anchorRecency({ ...r, writerSilent: true }).summary).toBe(
      "ANCHORING STOPPED: nothing written to the anchor file since 2026-11-26 09:10:00 UTC (over 25 min); events 41–43 unanchored since 2026-11-26 09:12:00 UTC",
    );
  });

  it("written in the future: clocks out of sync, the line's time; fails", () => {
    const r = { ...alive, writtenInFuture: true, lastWrittenAt: "2026-11-26T11:00:00.000Z", problem: "… in the future: clocks out of sync …" };
    expect(anchorRecency(r)).toEqual({
      summary: "CLOCKS OUT OF SYNC: the anchor file's newest line is dated 2026-11-26 11:00:00 UTC, ahead of the API host's clock; every event anchored",
      detail: "anchored every 10 min (declared by the anchor file)",
    });
    expect(anchorRecencyFails(r)).toBe(true);
    // Failing even without a problem text, and on a clean stop (its time said once).
    expect(anchorRecencyFails({ ...r, problem: null })).toBe(true);
    expect(anchorRecency({ ...r, stoppedCleanly: true }).summary).toBe(
      "CLOCKS OUT OF SYNC: the anchor file's newest line is dated 2026-11-26 11:00:00 UTC, ahead of the API host's clock; anchoring worker stopped cleanly; no events since",
    );
  });

  it("interval too long: judged by the API's setting instead, which the detail names; fails", () => {
    const r = { ...alive, ...awaiting, intervalTooLong: true, intervalDeclared: false, problem: "the file's newest line declares anchors every 60 minutes, …" };
    expect(anchorRecency(r)).toEqual({
      summary:
        "INTERVAL TOO LONG: the anchor file declares a longer interval than the API's setting, which is used instead; " +
        "events 41–43 since 2026-11-26 09:12:00 UTC await their anchor (due by 2026-11-26 09:37:00 UTC)",
      detail: "anchored every 10 min (the API's setting); anchor file's newest line written 2026-11-26 09:10:00 UTC",
    });
    expect(anchorRecencyFails({ ...r, problem: null })).toBe(true);
  });

  it("never repeats the verdict's problem text (shown in the verdict's badge)", () => {
    const problem = "UNIQUE-PROBLEM-TEXT";
    for (const r of [
      { ...notChecked, problem },
      { ...alive, writerSilent: true, overdue: true, problem },
      { ...alive, writtenInFuture: true, problem },
      { ...alive, intervalTooLong: true, problem },
    ]) {
      const { summary, detail } = anchorRecency(r);
      expect(`${summary} ${detail}`).not.toContain(problem);
    }
  });
});
