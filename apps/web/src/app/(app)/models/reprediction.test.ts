import { describe, expect, it } from "vitest";
import { mayRerun, pollInterval, type Reprediction, repredictionLine } from "./reprediction";

const base: Reprediction = {
  status: "SUCCEEDED",
  progress: 1,
  error: null,
  finishedAt: "2026-11-28T09:15:00.000Z",
  cellsLeft: 0,
  cellsPredicted: 412,
  waitingForWorkerSince: null,
  workerSeenAt: null,
  analysesAhead: 0,
  stalledSince: null,
  rerunnable: false,
};

describe("the champion's re-prediction line", () => {
  it("says done with the cells predicted, and asks for a run again when cells were left", () => {
    expect(repredictionLine(base)).toEqual({ text: "Open cases re-predicted by this model: done (this run predicted 412 cells, finished 2026-11-28 09:15:00 UTC).", tone: "muted" });
    expect(repredictionLine({ ...base, cellsPredicted: 1, finishedAt: null }).text).toBe("Open cases re-predicted by this model: done (this run predicted 1 cell).");
    const left = repredictionLine({ ...base, cellsLeft: 3, rerunnable: true });
    expect(left.tone).toBe("error");
    expect(left.text).toBe(
      "Open cases re-predicted by this model: done (this run predicted 412 cells, finished 2026-11-28 09:15:00 UTC). 3 undecided cells of open cases still show another model's call. Run it again once their images are back.",
    );
  });

  it("says how far a running job is, and what a queued one has to do", () => {
    expect(repredictionLine({ ...base, status: "RUNNING", progress: 0.4, cellsLeft: 250, finishedAt: null })).toEqual({
      text: "Open cases re-predicted by this model: running 40% (250 cells left).",
      tone: "notice",
    });
    expect(repredictionLine({ ...base, status: "QUEUED", progress: 0, cellsLeft: 1, finishedAt: null }).text).toBe("Open cases re-predicted by this model: queued (1 cell to predict).");
    expect(
      repredictionLine({ ...base, status: "QUEUED", cellsLeft: 9, error: "attempt 1 of 3 failed and is retried (the worker log has the details under job j1)" }).text,
    ).toBe("Open cases re-predicted by this model: queued again: attempt 1 of 3 failed and is retried (the worker log has the details under job j1).");
  });

  it("says a running attempt after a failed one as such, not as retried", () => {
    const line = repredictionLine({
      ...base,
      status: "RUNNING",
      progress: 0.1,
      cellsLeft: 20,
      finishedAt: null,
      error: "attempt 1 failed; attempt 2 of 3 running (the worker log has the details under job j1)",
    });
    expect(line).toEqual({
      text: "Open cases re-predicted by this model: running 10% (20 cells left): attempt 1 failed; attempt 2 of 3 running (the worker log has the details under job j1).",
      tone: "notice",
    });
  });

  it("warns in the error tone when a running job's worker stopped answering, and polls it slowly", () => {
    const stalled = { ...base, status: "RUNNING" as const, progress: 0.4, cellsLeft: 3, finishedAt: null, stalledSince: "2026-11-28T08:00:00.000Z" };
    expect(repredictionLine(stalled)).toEqual({
      text: "Open cases re-predicted by this model: running, but its worker stopped answering at 2026-11-28 08:00:00 UTC: check the workers; Run again once it is reaped. 3 undecided cells of open cases still show another model's call.",
      tone: "error",
    });
    expect(pollInterval(stalled)).toBe(30_000);
  });

  it("says it waits behind queued slide analyses when a worker is busy, not that none takes it", () => {
    const busy = { ...base, status: "QUEUED" as const, progress: 0, finishedAt: null, cellsLeft: 1, waitingForWorkerSince: "2026-11-28T08:00:00.000Z", workerSeenAt: "2026-11-28T08:07:30.000Z" };
    const line = repredictionLine({ ...busy, analysesAhead: 240 });
    expect(line).toEqual({
      text: "Open cases re-predicted by this model: waiting since 2026-11-28 08:00:00 UTC behind 240 queued slide analyses: the worker is busy with them (last seen 2026-11-28 08:07:30 UTC).",
      tone: "notice",
    });
    expect(line.text).not.toMatch(/no worker|RCMNET_WORKER_JOBS/);
    expect(repredictionLine({ ...busy, analysesAhead: 1 }).text).toContain("behind 1 queued slide analysis:");
  });

  it("warns when no worker has taken it for minutes, naming the setting to check", () => {
    const line = repredictionLine({ ...base, status: "QUEUED", progress: 0, finishedAt: null, cellsLeft: 1, waitingForWorkerSince: "2026-11-28T08:00:00.000Z" });
    expect(line).toEqual({
      text: "Open cases re-predicted by this model: waiting for a worker since 2026-11-28 08:00:00 UTC: no worker has taken it: check RCMNET_WORKER_JOBS (a running worker must take repredictOpenCases). 1 undecided cell of an open case still shows another model's call.",
      tone: "error",
    });
  });

  it("says it failed, why, and what review still shows; a champion never re-predicted likewise", () => {
    const failed = repredictionLine({ ...base, status: "FAILED", cellsLeft: 57, error: "gave up after 3 of 3 attempts (the worker log has the details under job j1)", rerunnable: true });
    expect(failed).toEqual({
      text: "Open cases re-predicted by this model: failed: gave up after 3 of 3 attempts (the worker log has the details under job j1). 57 undecided cells of open cases still show another model's call.",
      tone: "error",
    });
    expect(repredictionLine({ ...base, status: "FAILED", cellsLeft: 0, error: null }).text).toBe("Open cases re-predicted by this model: failed: no reason recorded.");
    expect(repredictionLine({ ...base, status: "NONE", cellsLeft: 2, cellsPredicted: 0, finishedAt: null })).toEqual({
      text: "Open cases re-predicted by this model: never run. 2 undecided cells of open cases still show another model's call.",
      tone: "error",
    });
    expect(repredictionLine({ ...base, status: "NONE", cellsLeft: 0, cellsPredicted: 0 })).toEqual({ text: "Open cases re-predicted by this model: nothing to predict.", tone: "muted" });
  });

  it("offers Run again to an admin or a data scientist, only when the API would run it", () => {
    const failed = { ...base, status: "FAILED" as const, rerunnable: true };
    expect(mayRerun("ADMIN", failed)).toBe(true);
    expect(mayRerun("DATA_SCIENTIST", failed)).toBe(true);
    for (const role of ["AUDITOR", "HEMATOLOGIST", "TECHNICIAN"] as const) expect(mayRerun(role, failed), role).toBe(false);
    expect(mayRerun("ADMIN", { ...failed, rerunnable: false })).toBe(false);
    expect(mayRerun("ADMIN", null)).toBe(false);
  });

  it("reloads while it is queued or running, slowly while no worker takes it", () => {
    expect(pollInterval({ ...base, status: "RUNNING" })).toBe(5_000);
    expect(pollInterval({ ...base, status: "QUEUED" })).toBe(5_000);
    expect(pollInterval({ ...base, status: "QUEUED", waitingForWorkerSince: "2026-11-28T08:00:00.000Z" })).toBe(30_000);
    expect(pollInterval(base)).toBeNull();
    expect(pollInterval({ ...base, status: "FAILED" })).toBeNull();
    expect(pollInterval(null)).toBeNull();
  });
});
