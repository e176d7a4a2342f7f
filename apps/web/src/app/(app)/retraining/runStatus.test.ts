import { describe, expect, it } from "vitest";
import { cancelDecision, cancelQuestion, epochsOf, formatDuration, type RunState, runStatusLine, stuck } from "./runStatus";

const NOW = Date.parse("2026-11-28T09:00:00.000Z");
const minutesAgo = (m: number) => new Date(NOW - m * 60_000).toISOString();

const queued: RunState = {
  id: "3f2a9c1e-0000-4000-8000-000000000001",
  status: "QUEUED",
  progress: 0,
  config: { epochs: 30, frozenEpochs: 5 },
  metrics: null,
  cancelRequested: false,
  createdAt: minutesAgo(42),
  startedAt: null,
  finishedAt: null,
  waitingForWorkerSince: null,
  queuedBehind: null,
  stalledSince: null,
  snapshot: { name: "week 48" },
};

/** Running since 20 minutes, 6 of its 30 epochs trained. */
const running: RunState = {
  ...queued,
  status: "RUNNING",
  progress: 0.21,
  metrics: { history: Array.from({ length: 6 }, (_, i) => ({ epoch: i + 1 })) },
  startedAt: minutesAgo(20),
};

describe("a training run's status line", () => {
  it("says a queued run no worker has taken is stuck, for how long, and what to do", () => {
    expect(runStatusLine({ ...queued, waitingForWorkerSince: queued.createdAt }, NOW)).toEqual({
      text:
        "Queued 42 min, no worker has taken it (queued 2026-11-28 08:18:00 UTC): check that a running worker takes trainModel jobs (RCMNET_WORKER_JOBS). " +
        "Until it ends no other run can start. Cancel it to start another.",
      tone: "error",
    });
  });

  it("says a running run whose worker stopped answering has made no progress since its last heartbeat", () => {
    const line = runStatusLine({ ...running, stalledSince: minutesAgo(12) }, NOW)!;
    expect(line.tone).toBe("error");
    expect(line.text).toMatch(/^No progress for 12 min: the worker may have stopped \(its last heartbeat 2026-11-28 08:48:00 UTC\)\. /);
    expect(line.text).toContain("to resume from its last checkpoint");
    expect(line.text).toContain("Until it ends no other run can start.");
    // Its worker's lease has expired: a cancel now ends it at once (cancelTrainingRun).
    expect(line.text).toMatch(/Until it ends no other run can start\. Cancelling it ends it at once\.$/);
    // A cancel asked for before its worker stopped has nobody to act on it: a second one ends the run.
    expect(runStatusLine({ ...running, stalledSince: minutesAgo(12), cancelRequested: true }, NOW)!.text).toMatch(
      /Its cancellation was asked for before its worker stopped: cancel it again to end it at once\.$/,
    );
  });

  it("says a run handed back to the queue after its worker stopped waits for a worker again", () => {
    const line = runStatusLine({ ...running, waitingForWorkerSince: minutesAgo(7) }, NOW)!;
    expect(line).toMatchObject({ tone: "error" });
    expect(line.text).toMatch(/^Handed back to the queue after its worker stopped, and no worker has taken it for 7 min \(due since 2026-11-28 08:53:00 UTC\): /);
  });

  it("says a run due behind the jobs a living worker is busy with is queued behind them, not stuck", () => {
    const behind = { ...queued, waitingForWorkerSince: queued.createdAt, queuedBehind: 3 };
    expect(runStatusLine(behind, NOW)).toEqual({
      text:
        "Queued 42 min behind 3 jobs a worker is busy with (queued 2026-11-28 08:18:00 UTC): it is taken after them, first in, first out. " +
        "If it is still queued once they are done, check that a running worker takes trainModel jobs (RCMNET_WORKER_JOBS).",
      tone: "notice",
    });
    expect(runStatusLine({ ...behind, queuedBehind: 1 }, NOW)!.text).toMatch(/^Queued 42 min behind 1 job a worker is busy with /);
    const handedBack = runStatusLine({ ...running, waitingForWorkerSince: minutesAgo(7), queuedBehind: 2, cancelRequested: true }, NOW)!;
    expect(handedBack).toEqual({
      text:
        "Handed back to the queue after its worker stopped; it is now behind 2 jobs a worker is busy with, and resumes from its last checkpoint after them. " +
        "If it is still queued once they are done, check that a running worker takes trainModel jobs (RCMNET_WORKER_JOBS). Its cancellation was asked for before its worker stopped: cancel it again to end it at once.",
      tone: "notice",
    });
    expect(stuck(behind)).toBe(false);
  });

  it("gives the elapsed time and the epoch of a run under way, from when a worker took it", () => {
    expect(runStatusLine(running, NOW)).toEqual({ text: "Running 20 min, epoch 7 of 30.", tone: "notice" });
    expect(runStatusLine({ ...queued, createdAt: minutesAgo(2) }, NOW)).toEqual({ text: "Queued 2 min: waiting for a worker to take it.", tone: "notice" });
    expect(runStatusLine({ ...running, metrics: { history: Array.from({ length: 30 }, () => ({})) }, progress: 0.9 }, NOW)!.text).toBe(
      "Running 20 min, all 30 epochs trained, evaluating on the TEST part.",
    );
    expect(runStatusLine({ ...running, cancelRequested: true }, NOW)!.text).toBe("Running 20 min, epoch 7 of 30. Cancelling: its worker stops it within seconds.");
    expect(runStatusLine({ ...running, cancelRequested: true, metrics: { history: Array.from({ length: 30 }, () => ({})) } }, NOW)!.text).toBe(
      "Running 20 min, all 30 epochs trained, evaluating on the TEST part. Cancelling: its worker stops it before registering its model (if registered first, the run succeeds anyway).",
    );
    expect(runStatusLine({ ...running, status: "SUCCEEDED", finishedAt: minutesAgo(5) }, NOW)).toEqual({ text: "Ended 15 min after a worker took it.", tone: "muted" });
    expect(runStatusLine({ ...queued, status: "CANCELLED", finishedAt: minutesAgo(1) }, NOW)).toEqual({ text: "Ended before a worker took it.", tone: "muted" });
  });

  it("polls slower only while stuck", () => {
    expect(stuck(running)).toBe(false);
    expect(stuck({ ...running, stalledSince: minutesAgo(3) })).toBe(true);
    expect(stuck({ ...queued, waitingForWorkerSince: minutesAgo(6) })).toBe(true);
  });

  it("writes durations as a status line says them", () => {
    expect(formatDuration(20_000)).toBe("under a minute");
    expect(formatDuration(-5_000)).toBe("under a minute");
    expect(formatDuration(42 * 60_000)).toBe("42 min");
    expect(formatDuration(185 * 60_000)).toBe("3 h 5 min");
    expect(formatDuration(120 * 60_000)).toBe("2 h");
    expect(formatDuration(4 * 24 * 60 * 60_000)).toBe("4 days");
  });
});

describe("the question before a run is cancelled", () => {
  it("names the run, its epoch and progress, says it cannot be resumed, and asks why (the reason the API requires)", () => {
    expect(cancelQuestion(running)).toEqual({
      title: "Cancel training run 3f2a9c1e at epoch 7 of 30?",
      message:
        "On snapshot week 48, queued 2026-11-28 08:18:00 UTC, started 2026-11-28 08:40:00 UTC: 6 of 30 epochs trained (21%). " +
        "It cannot be resumed: its checkpoint is removed, and training again means a new run from epoch 1.",
      label: "Why cancel it? (required, recorded in the audit trail)",
      confirm: "Cancel the run",
      dismiss: "Keep it",
    });
  });

  it("says a queued or stalled run ends at once, a run under evaluation may succeed anyway, and one handed back waits for a worker", () => {
    const q = cancelQuestion(queued);
    expect(q.title).toBe("Cancel training run 3f2a9c1e? It has not started yet.");
    expect(q.message).toBe("On snapshot week 48, queued 2026-11-28 08:18:00 UTC (0%). It ends at once, and cannot be resumed: training on this snapshot again means a new run.");
    const evaluating = cancelQuestion({ ...running, progress: 0.91, metrics: { history: Array.from({ length: 30 }, () => ({})) } });
    expect(evaluating.title).toBe("Cancel training run 3f2a9c1e while it is evaluated on the TEST part (all 30 epochs trained)?");
    expect(evaluating.message).toContain("If its model is registered before its worker sees the cancel, the run succeeds anyway.");
    // Its worker stopped renewing its lease: the API ends it at once. Handed back to the queue: the next worker that takes it does.
    expect(cancelQuestion({ ...running, stalledSince: minutesAgo(12) }).message).toMatch(/\(21%\)\. It cannot be resumed: .* Its worker has stopped answering: the cancel ends it at once\.$/);
    expect(cancelQuestion({ ...running, waitingForWorkerSince: minutesAgo(7) }).message).toMatch(/No worker is running it now: the cancel takes effect when one takes it\.$/);
    expect(cancelQuestion({ ...running, waitingForWorkerSince: minutesAgo(7), queuedBehind: 2 }).message).toMatch(/No worker is running it now: the cancel takes effect when one takes it\.$/);
    expect(cancelQuestion(running).message).toMatch(/new run from epoch 1\.$/);
  });

  it("counts the epochs trained from the run's history, within its recipe", () => {
    expect(epochsOf(running)).toEqual({ done: 6, total: 30 });
    expect(epochsOf({ config: {}, metrics: null })).toEqual({ done: 0, total: null });
    expect(epochsOf({ config: { epochs: 2 }, metrics: { history: [{}, {}, {}] } })).toEqual({ done: 2, total: 2 });
  });
});

describe("a confirmed cancel", () => {
  it("is sent for a run still queued or running as last polled", () => {
    expect(cancelDecision(queued.id, [queued])).toEqual({ send: true });
    expect(cancelDecision(running.id, [running])).toEqual({ send: true });
  });

  it("is not sent for a run that finished while the question was open, and says so plainly", () => {
    expect(cancelDecision(running.id, [{ ...running, status: "SUCCEEDED" }])).toEqual({
      send: false,
      notice: "Training run 3f2a9c1e already finished (SUCCEEDED); nothing was cancelled.",
    });
    expect(cancelDecision(running.id, [{ ...running, status: "FAILED" }])).toEqual({
      send: false,
      notice: "Training run 3f2a9c1e already finished (FAILED); nothing was cancelled.",
    });
  });

  it("is not sent again for a run cancelled meanwhile (another user); one whose cancel was only requested is (the API decides)", () => {
    expect(cancelDecision(running.id, [{ ...running, status: "CANCELLED", cancelRequested: true }])).toEqual({
      send: false,
      notice: "Training run 3f2a9c1e had already been cancelled (CANCELLED); nothing more was sent.",
    });
    // Its worker may have stopped since (a second cancel ends it) or be stopping it (the API says so).
    expect(cancelDecision(running.id, [{ ...running, cancelRequested: true }])).toEqual({ send: true });
  });

  it("is sent again for a run whose cancel was requested before its worker stopped answering (nobody is left to act on it)", () => {
    expect(cancelDecision(running.id, [{ ...running, cancelRequested: true, stalledSince: minutesAgo(3) }])).toEqual({ send: true });
  });

  it("is left to the API for a run no longer listed", () => {
    expect(cancelDecision(running.id, [])).toEqual({ send: true });
  });
});
