// The line by the champion on the Models page: whether the undecided cells of open cases were
// predicted again by it since it became champion (ModelVersion.reprediction in the API schema).
// Until they are, review goes on over the replaced, perhaps withdrawn, model's calls: a job that
// failed, or that no worker takes, must be seen, not found months later.
import type { Role } from "@/auth/roles";
import { formatDateTime } from "@/lib/format";

export interface Reprediction {
  status: "NONE" | "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED";
  progress: number;
  error: string | null;
  finishedAt: string | null;
  cellsLeft: number;
  cellsPredicted: number;
  /** Queued and due for more than a few minutes with no worker taking it (the API decides, by the database's clock). */
  waitingForWorkerSince: string | null;
  /** While waiting: a worker took an inference job within those minutes (busy), or null (none takes them). */
  workerSeenAt: string | null;
  /** While waiting: slide analyses due before it, which a worker takes first. */
  analysesAhead: number;
  /** Running, but its worker has not renewed its lease for longer than the lease and a margin: its last heartbeat. */
  stalledSince: string | null;
  /** Whether rerunReprediction would run it again now. */
  rerunnable: boolean;
}

/** error: something to act on; notice: under way; muted: nothing to do. */
export type Tone = "error" | "notice" | "muted";

const PREFIX = "Open cases re-predicted by this model";

const cells = (n: number) => `${n} cell${n === 1 ? "" : "s"}`;
const analyses = (n: number) => `${n} queued slide analys${n === 1 ? "is" : "es"}`;

/** What the undecided cells still show meanwhile, when any do. */
function stillOld(n: number): string {
  return n > 0 ? ` ${n === 1 ? "1 undecided cell of an open case still shows" : `${n} undecided cells of open cases still show`} another model's call.` : "";
}

export function repredictionLine(r: Reprediction): { text: string; tone: Tone } {
  switch (r.status) {
    case "SUCCEEDED": {
      // cellsPredicted is this job's (a run again counts only its own), not the reign's total.
      const when = r.finishedAt ? `, finished ${formatDateTime(r.finishedAt)}` : "";
      // Cells left after success: crops missing from the blob store when it ran (skipped), now back perhaps.
      return r.cellsLeft > 0
        ? { text: `${PREFIX}: done (this run predicted ${cells(r.cellsPredicted)}${when}).${stillOld(r.cellsLeft)} Run it again once their images are back.`, tone: "error" }
        : { text: `${PREFIX}: done (this run predicted ${cells(r.cellsPredicted)}${when}).`, tone: "muted" };
    }
    case "RUNNING": {
      if (r.stalledSince) {
        // Nothing takes it back while no worker runs: rerunReprediction refuses it as running until a worker reaps it.
        return {
          text: `${PREFIX}: running, but its worker stopped answering at ${formatDateTime(r.stalledSince)}: check the workers; Run again once it is reaped.${stillOld(r.cellsLeft)}`,
          tone: "error",
        };
      }
      const retried = r.error ? `: ${r.error}` : "";
      return { text: `${PREFIX}: running ${Math.round(100 * Math.min(1, Math.max(0, r.progress)))}% (${cells(r.cellsLeft)} left)${retried}.`, tone: "notice" };
    }
    case "QUEUED":
      if (r.waitingForWorkerSince && r.workerSeenAt) {
        return {
          text: `${PREFIX}: waiting since ${formatDateTime(r.waitingForWorkerSince)} behind ${analyses(r.analysesAhead)}: the worker is busy with them (last seen ${formatDateTime(r.workerSeenAt)}).`,
          tone: "notice",
        };
      }
      if (r.waitingForWorkerSince) {
        return {
          text: `${PREFIX}: waiting for a worker since ${formatDateTime(r.waitingForWorkerSince)}: no worker has taken it: check RCMNET_WORKER_JOBS (a running worker must take repredictOpenCases).${stillOld(r.cellsLeft)}`,
          tone: "error",
        };
      }
      return r.error
        ? { text: `${PREFIX}: queued again: ${r.error}.`, tone: "notice" }
        : { text: `${PREFIX}: queued (${cells(r.cellsLeft)} to predict).`, tone: "notice" };
    case "FAILED":
      return { text: `${PREFIX}: failed: ${r.error ?? "no reason recorded"}.${stillOld(r.cellsLeft)}`, tone: "error" };
    case "NONE":
      return r.cellsLeft > 0
        ? { text: `${PREFIX}: never run.${stillOld(r.cellsLeft)}`, tone: "error" }
        : { text: `${PREFIX}: nothing to predict.`, tone: "muted" };
  }
}

/** The roles the API lets run it again (Mutation.rerunReprediction), when there is something to run. */
const RERUN_ROLES: readonly Role[] = ["ADMIN", "DATA_SCIENTIST"];

export function mayRerun(role: Role, r: Reprediction | null): boolean {
  return Boolean(r?.rerunnable) && RERUN_ROLES.includes(role);
}

/** While it is queued or running the line reloads, slower while no worker takes it or answers. Null: no need. */
export function pollInterval(r: Reprediction | null): number | null {
  if (!r || (r.status !== "QUEUED" && r.status !== "RUNNING")) return null;
  return r.waitingForWorkerSince || r.stalledSince ? 30_000 : 5_000;
}
