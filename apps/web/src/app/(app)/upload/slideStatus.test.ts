import { describe, expect, it } from "vitest";
import { slideStatusText, STALE_WAIT_MS, trackWaiting } from "./slideStatus";

const T0 = Date.UTC(2026, 10, 20, 8, 0);
const job = (patch: Partial<{ step: string | null; error: string | null; attempts: number; maxAttempts: number }> = {}) => ({ step: null, error: null, ...patch });

describe("an image's analysis line", () => {
  it("says nothing more once the analysis is done or failed", () => {
    expect(slideStatusText({ status: "DONE", job: job({ step: "done" }), waitingSince: null }, T0)).toBe("");
    expect(slideStatusText({ status: "FAILED", job: job({ error: "x" }), waitingSince: T0 }, T0 + STALE_WAIT_MS)).toBe("");
  });

  it("names the running step, and the attempt when it is a retry", () => {
    expect(slideStatusText({ status: "RUNNING", job: job({ step: "classifying cells" }), waitingSince: null }, T0)).toBe("classifying cells");
    expect(slideStatusText({ status: "RUNNING", job: null, waitingSince: null }, T0)).toBe("analysing");
    expect(slideStatusText({ status: "RUNNING", job: job({ step: "detecting cells", attempts: 1, maxAttempts: 3 }), waitingSince: null }, T0)).toBe("detecting cells");
    expect(slideStatusText({ status: "RUNNING", job: job({ step: "detecting cells", attempts: 2, maxAttempts: 3 }), waitingSince: null }, T0)).toBe(
      "detecting cells (attempt 2 of 3)",
    );
  });

  it("says an image waits for an analyser, and a failed attempt is retried, with the error", () => {
    expect(slideStatusText({ status: "PENDING", job: job(), waitingSince: T0 }, T0 + 60_000)).toBe("Waiting for an analyser");
    const error = "the last attempt failed and is retried (the worker log has the details under job j1)";
    expect(slideStatusText({ status: "PENDING", job: job({ error }), waitingSince: T0 }, T0)).toBe(`Retrying shortly: ${error}`);
    expect(slideStatusText({ status: "PENDING", job: job({ error, attempts: 1, maxAttempts: 3 }), waitingSince: T0 }, T0)).toBe(
      `Attempt 1 of 3 failed; retrying shortly: ${error}`,
    );
  });

  it("after ten minutes' wait, tells the technician to call the administrator", () => {
    const stale = slideStatusText({ status: "PENDING", job: job(), waitingSince: T0 }, T0 + STALE_WAIT_MS + 90_000);
    expect(stale).toBe("No analyser has picked this up yet (waiting 11 minutes): tell your administrator.");
    expect(slideStatusText({ status: "PENDING", job: job(), waitingSince: T0 }, T0 + STALE_WAIT_MS - 1)).toBe("Waiting for an analyser");
    // Not known since when: not called stale.
    expect(slideStatusText({ status: "PENDING", job: null, waitingSince: null }, T0 + 3_600_000)).toBe("Waiting for an analyser");
    expect(slideStatusText({ status: "PENDING", job: job({ error: "boom" }), waitingSince: T0 }, T0 + STALE_WAIT_MS)).toBe(
      "No analyser has picked this up yet (waiting 10 minutes): tell your administrator. Last attempt: boom",
    );
  });
});

describe("waiting times seen by the page", () => {
  it("start when an image is first seen waiting, and end when it moves on", () => {
    const first = trackWaiting({}, [{ slideId: "a", status: "PENDING" }, { slideId: "b", status: "RUNNING" }], T0);
    expect(first).toEqual({ a: T0 });
    const same = trackWaiting(first, [{ slideId: "a", status: "PENDING" }, { slideId: "b", status: "DONE" }], T0 + 5_000);
    expect(same).toBe(first); // unchanged: the same object, so React state does not re-render
    const moved = trackWaiting(same, [{ slideId: "a", status: "RUNNING" }], T0 + 10_000);
    expect(moved).toEqual({});
    // Queued again later (uploaded again after a failure): the wait counts from then.
    expect(trackWaiting(moved, [{ slideId: "a", status: "PENDING" }], T0 + 20_000)).toEqual({ a: T0 + 20_000 });
  });
});
