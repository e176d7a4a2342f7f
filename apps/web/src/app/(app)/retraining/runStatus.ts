// What the Retraining page says of a training run beside its bar: how long it has been queued or
// running, and when no worker takes it or its worker stopped answering (TrainingRun.
// waitingForWorkerSince and stalledSince: the API decides, by the database's clock, with the rule
// of the champion's re-prediction line on the Models page) that it is stuck, which otherwise
// showed as a bar at 0% (or frozen) while new runs stayed refused; or that a living worker is busy
// with the jobs ahead of it (queuedBehind), which is not stuck and was misread as "no worker runs".
// And the question a cancel asks.
import { formatDateTime } from "@/lib/format";

export type RunStatus = "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED";

export interface RunState {
  id: string;
  status: RunStatus;
  progress: number;
  config: Record<string, unknown>;
  metrics: unknown;
  cancelRequested: boolean;
  /** When it was queued. */
  createdAt: string;
  /** When a worker first took it (null: none has). */
  startedAt: string | null;
  finishedAt: string | null;
  /** Its job queued and due for more than a few minutes with no worker taking it: since when it was due. */
  waitingForWorkerSince: string | null;
  /** While waiting: the jobs ahead of it that a living worker is busy with (null: no worker is alive). */
  queuedBehind: number | null;
  /** Its job running, its lease not renewed past the lease and a margin: its last heartbeat. */
  stalledSince: string | null;
  snapshot: { name: string };
}

/** error: something to act on; notice: under way; muted: over. */
export type Tone = "error" | "notice" | "muted";

/** "under a minute", "42 min", "3 h 5 min", "4 days": how long, as a status line says it. */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return "under a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} days`;
}

const elapsed = (from: string, now: number) => formatDuration(now - Date.parse(from));

/** Epochs trained (the run's history grows one an epoch) and the recipe's total (null: not in its config). */
export function epochsOf(r: Pick<RunState, "config" | "metrics">): { done: number; total: number | null } {
  const history = (r.metrics as { history?: unknown } | null | undefined)?.history;
  const total = typeof r.config.epochs === "number" && r.config.epochs > 0 ? r.config.epochs : null;
  const done = Array.isArray(history) ? history.length : 0;
  return { done: total === null ? done : Math.min(done, total), total };
}

/**
 * How far a running run is: `line` for its status line ("epoch 7 of 30" with 6 trained, "all 30
 * epochs trained, evaluating on the TEST part"), `at` for a question ("at epoch 7 of 30").
 */
function stageOf(r: RunState): { line: string; at: string } {
  const { done, total } = epochsOf(r);
  if (total === null) {
    const pct = `${Math.round(100 * Math.min(1, Math.max(0, r.progress)))}%`;
    return { line: pct, at: `at ${pct}` };
  }
  return done >= total
    ? { line: `all ${total} epochs trained, evaluating on the TEST part`, at: `while it is evaluated on the TEST part (all ${total} epochs trained)` }
    : { line: `epoch ${done + 1} of ${total}`, at: `at epoch ${done + 1} of ${total}` };
}

const NO_OTHER_RUN = "Until it ends no other run can start.";
const CHECK_WORKERS = "check that a running worker takes trainModel jobs (RCMNET_WORKER_JOBS)";

/**
 * The line for a run: queued or running (stuck or not), or how long an ended one ran. `now`: the
 * browser's clock (the API's times are the database's; a few seconds apart at most where both keep time).
 */
export function runStatusLine(r: RunState, now: number): { text: string; tone: Tone } | null {
  // A cancel asked for while its worker was alive is that worker's to carry out. Once no worker
  // holds the run (stalled, or handed back to the queue), a cancel ends it at once
  // (cancelTrainingRun), a second one included: said, so that nobody waits for a worker.
  const cancelWaits = r.cancelRequested ? " Its cancellation was asked for before its worker stopped: cancel it again to end it at once." : " Cancelling it ends it at once.";
  if (r.stalledSince) {
    return {
      text:
        `No progress for ${elapsed(r.stalledSince, now)}: the worker may have stopped (its last heartbeat ${formatDateTime(r.stalledSince)}). ` +
        `A running worker hands the run back to the queue between its own jobs, to resume from its last checkpoint (or fails it after its attempts): ${CHECK_WORKERS}. ${NO_OTHER_RUN}` +
        cancelWaits,
      tone: "error",
    };
  }
  if (r.waitingForWorkerSince && r.queuedBehind !== null) {
    // A worker is alive and busy: not stuck, though one busy with analyses only may not take it after them.
    const ahead = `${r.queuedBehind} job${r.queuedBehind === 1 ? "" : "s"}`;
    const after = `If it is still queued once they are done, ${CHECK_WORKERS}.`;
    if (r.status === "QUEUED" && r.startedAt === null) {
      return {
        text: `Queued ${elapsed(r.createdAt, now)} behind ${ahead} a worker is busy with (queued ${formatDateTime(r.createdAt)}): it is taken after them, first in, first out. ${after}`,
        tone: "notice",
      };
    }
    return {
      text: `Handed back to the queue after its worker stopped; it is now behind ${ahead} a worker is busy with, and resumes from its last checkpoint after them. ${after}${cancelWaits}`,
      tone: "notice",
    };
  }
  if (r.waitingForWorkerSince) {
    if (r.status === "QUEUED" && r.startedAt === null) {
      return {
        text: `Queued ${elapsed(r.createdAt, now)}, no worker has taken it (queued ${formatDateTime(r.createdAt)}): ${CHECK_WORKERS}. ${NO_OTHER_RUN} Cancel it to start another.`,
        tone: "error",
      };
    }
    return {
      text:
        `Handed back to the queue after its worker stopped, and no worker has taken it for ${elapsed(r.waitingForWorkerSince, now)} (due since ${formatDateTime(r.waitingForWorkerSince)}): ` +
        `${CHECK_WORKERS}; one that does resumes it from its last checkpoint. ${NO_OTHER_RUN}${cancelWaits}`,
      tone: "error",
    };
  }
  if (r.status === "QUEUED") return { text: `Queued ${elapsed(r.createdAt, now)}: waiting for a worker to take it.`, tone: "notice" };
  if (r.status === "RUNNING") {
    // Training polls the flag every second; the TEST evaluation reads it only before registering the model.
    const { done, total } = epochsOf(r);
    const evaluating = total !== null && done >= total;
    const cancelling = !r.cancelRequested
      ? ""
      : evaluating
        ? " Cancelling: its worker stops it before registering its model (if registered first, the run succeeds anyway)."
        : " Cancelling: its worker stops it within seconds.";
    return { text: `Running ${elapsed(r.startedAt ?? r.createdAt, now)}, ${stageOf(r).line}.${cancelling}`, tone: "notice" };
  }
  if (r.startedAt && r.finishedAt) return { text: `Ended ${formatDuration(Date.parse(r.finishedAt) - Date.parse(r.startedAt))} after a worker took it.`, tone: "muted" };
  return r.startedAt ? null : { text: "Ended before a worker took it.", tone: "muted" };
}

/**
 * Whether the run is stuck with no worker: the page then polls slower (nothing moves until a worker
 * comes). Not one queued behind the jobs a living worker is busy with: it moves when they are done.
 */
export function stuck(r: Pick<RunState, "waitingForWorkerSince" | "queuedBehind" | "stalledSince">): boolean {
  return (r.waitingForWorkerSince !== null && r.queuedBehind === null) || r.stalledSince !== null;
}

const CANCEL_REASON_LABEL = "Why cancel it? (required, recorded in the audit trail)";

/**
 * The question before a cancel, naming the run and how far it is. A cancelled run cannot be
 * resumed: its worker (or the API, for a run never taken) removes its checkpoint and its copies
 * of the snapshot's crops, and nothing starts a run again; training again is a new run from epoch 1.
 * Answered with a reason (required by the API, kept as the training.cancel audit event's reason),
 * as every other step of a model's lifecycle (promotion, rollback, re-prediction) is.
 */
export function cancelQuestion(r: RunState): { title: string; message: string; label: string; confirm: string; dismiss: string } {
  const name = `training run ${r.id.slice(0, 8)}`;
  const { done, total } = epochsOf(r);
  const neverTaken = r.status === "QUEUED" && r.startedAt === null;
  const title = neverTaken ? `Cancel ${name}? It has not started yet.` : `Cancel ${name} ${stageOf(r).at}?`;
  const when = `On snapshot ${r.snapshot.name}, queued ${formatDateTime(r.createdAt)}${r.startedAt ? `, started ${formatDateTime(r.startedAt)}` : ""}`;
  const far = neverTaken ? "" : total === null ? `: ${done} epoch${done === 1 ? "" : "s"} trained` : `: ${done} of ${total} epochs trained`;
  const lost = neverTaken
    ? "It ends at once, and cannot be resumed: training on this snapshot again means a new run."
    : "It cannot be resumed: its checkpoint is removed, and training again means a new run from epoch 1.";
  const late = !neverTaken && total !== null && done >= total ? " If its model is registered before its worker sees the cancel, the run succeeds anyway." : "";
  // A stalled run's worker stopped renewing its lease: the API ends it at once. One handed back to
  // the queue is ended by the next worker that takes it.
  const noWorker = neverTaken
    ? ""
    : r.stalledSince
      ? " Its worker has stopped answering: the cancel ends it at once."
      : r.waitingForWorkerSince
        ? " No worker is running it now: the cancel takes effect when one takes it."
        : "";
  return {
    title,
    message: `${when}${far} (${Math.round(100 * Math.min(1, Math.max(0, r.progress)))}%). ${lost}${late}${noWorker}`,
    label: CANCEL_REASON_LABEL,
    confirm: "Cancel the run",
    dismiss: "Keep it",
  };
}

/**
 * Whether a confirmed cancel is still to be sent, decided on the run as the page last polled it
 * (`latest`), not as it was when Cancel was clicked: the question stays open while the run moves
 * on. A run that ended meanwhile is said so plainly as a notice (sending would only earn the
 * API's refusal, shown as an error). A run whose cancel was asked for already is sent again: when
 * its worker stopped meanwhile, that ends it; while the worker lives, the API says it is on its way.
 * A run no longer listed is left to the API to decide.
 */
export function cancelDecision(
  id: string,
  latest: readonly Pick<RunState, "id" | "status" | "cancelRequested" | "stalledSince">[],
): { send: true } | { send: false; notice: string } {
  const run = latest.find((r) => r.id === id);
  const name = `Training run ${id.slice(0, 8)}`;
  if (!run) return { send: true };
  if (run.status === "CANCELLED") return { send: false, notice: `${name} had already been cancelled (CANCELLED); nothing more was sent.` };
  if (run.status !== "QUEUED" && run.status !== "RUNNING") return { send: false, notice: `${name} already finished (${run.status}); nothing was cancelled.` };
  return { send: true };
}
