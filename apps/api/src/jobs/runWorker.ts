// The worker loop: one job at a time per process (concurrency comes from running more
// processes, on any machines). Between jobs it reaps expired leases so a dead worker's job is
// picked up by the living ones; during a job a timer renews the lease.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { claimJob, completeJob, failJob, heartbeat, reapExpiredLeases, releaseJob } from "./queue.ts";
import { type PermanentDatabaseFault, permanentDatabaseFault } from "./permanentDatabaseFault.ts";
import {
  JobAbortedError,
  JobYieldedError,
  JobCancelledError,
  PermanentJobError,
  type JobContext,
  type JobHandler,
  type JobServices,
} from "./types.ts";

export interface WorkerOptions extends JobServices {
  handlers: Record<string, JobHandler>;
  workerId?: string;
  /** A job whose worker has not renewed its lease for this long is taken back. */
  leaseMs?: number;
  /** How often the lease is renewed; well under leaseMs so a GC pause or a slow query is fine. */
  heartbeatMs?: number;
  /** Sleep between polls when the queue is empty. */
  pollMs?: number;
  /** On stop(): how long the running job may take to finish before it is released. */
  shutdownGraceMs?: number;
  /** Housekeeping run when the queue is empty (at most once per idleTaskMs). */
  onIdle?: () => Promise<unknown>;
  idleTaskMs?: number;
}

export interface RunningWorker {
  workerId: string;
  /** Stops claiming, lets the current job finish within the grace period, else releases it. */
  stop(): Promise<void>;
  /**
   * Resolves when the loop has exited: with the fault that ended it when DATABASE_URL can never
   * work (the process should exit 2, as on a refused role), else null (stopped).
   */
  done: Promise<PermanentDatabaseFault | null>;
}

/** Distinguishes why a job's signal fired. */
type AbortReason = "lost" | "shutdown";

export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

/** The lease a worker takes when not told otherwise (worker.ts does not): what readers judge a silent job by. */
export const DEFAULT_LEASE_MS = 30_000;

export function startWorker(options: WorkerOptions): RunningWorker {
  const {
    prisma,
    handlers,
    log,
    workerId = defaultWorkerId(),
    leaseMs = DEFAULT_LEASE_MS,
    heartbeatMs = Math.max(250, Math.floor((options.leaseMs ?? DEFAULT_LEASE_MS) / 3)),
    pollMs = 1_000,
    shutdownGraceMs = 10_000,
  } = options;
  const types = Object.keys(handlers);
  const stopping = new AbortController();
  let current: { controller: AbortController; finished: Promise<void> } | undefined;

  async function runOne(): Promise<boolean> {
    await reapExpiredLeases(prisma, leaseMs);
    const claimSentAt = Date.now();
    const claimed = await claimJob(prisma, { workerId, types, leaseMs });
    if (!claimed) return false;
    // stop() came while this claim was in flight and found no job to give a grace period: hand it
    // back now rather than run a whole (training) job past the shutdown.
    if (stopping.signal.aborted) {
      await releaseJob(prisma, claimed.id, workerId);
      log.info("job released on shutdown", { jobId: claimed.id });
      return true;
    }
    const job = claimed;
    const handler = handlers[job.type];
    if (!handler) throw new Error(`claimed a job of unknown type ${job.type}`); // claim filters types
    log.info("job started", { jobId: job.id, type: job.type, attempt: job.attempts });

    const controller = new AbortController();
    const lose = () => controller.abort("lost" satisfies AbortReason);
    // A heartbeat that fails or hangs (the database unreachable) does not say the lease is lost,
    // but the reaper takes the job back leaseMs after the database stamped the last renewal, and
    // another worker would then run it beside this one (a training run into the same folder). So
    // the job is given up here leaseMs - heartbeatMs after the last successful renewal was *sent*
    // (never later than the database stamped it): a heartbeat interval before the reaper may act,
    // for the handler to unwind.
    let deadline: NodeJS.Timeout | undefined;
    const renewedAsOf = (sentAt: number) => {
      clearTimeout(deadline);
      deadline = setTimeout(() => {
        if (controller.signal.aborted) return;
        log.warn("job stopped: its lease could not be renewed in time", { jobId: job.id, sinceRenewalMs: Date.now() - sentAt });
        lose();
      }, Math.max(0, sentAt + leaseMs - heartbeatMs - Date.now()));
    };
    renewedAsOf(claimSentAt);
    const renewal = async (progress?: { progress?: number; step?: string }) => {
      const sentAt = Date.now();
      const held = await heartbeat(prisma, job.id, workerId, progress);
      if (held) renewedAsOf(sentAt);
      else lose();
      return held;
    };
    const renew = setInterval(() => {
      renewal().catch((err: unknown) => log.warn("heartbeat failed", { jobId: job.id, error: String(err) }));
    }, heartbeatMs);
    const ctx: JobContext = {
      ...options,
      job,
      workerId,
      signal: controller.signal,
      async progress(value, step) {
        if (controller.signal.aborted) throw new JobAbortedError(`job ${job.id} aborted`);
        if (!(await renewal({ progress: value, step }))) {
          throw new JobAbortedError(`job ${job.id} was cancelled or taken over`);
        }
      },
    };

    const finished = (async () => {
      try {
        await handler(ctx);
        if (controller.signal.aborted) throw new JobAbortedError("aborted");
        await completeJob(prisma, job.id, workerId);
        log.info("job succeeded", { jobId: job.id, type: job.type });
      } catch (err) {
        await settleFailure(err);
      } finally {
        clearInterval(renew);
        clearTimeout(deadline);
      }
    })();

    async function settleFailure(err: unknown) {
      const reason = controller.signal.aborted ? (controller.signal.reason as AbortReason) : undefined;
      if (reason === "shutdown") {
        await releaseJob(prisma, job.id, workerId);
        log.info("job released on shutdown", { jobId: job.id });
      } else if (reason === "lost") {
        // Cancelled or taken over: the row is no longer ours, write nothing.
        log.warn("job stopped: cancelled or lease lost", { jobId: job.id });
      } else if (err instanceof JobYieldedError) {
        // Behind the jobs already waiting (the queue runs by runAfter, then age), no attempt spent.
        await releaseJob(prisma, job.id, workerId, `stepped back: ${err.message}`);
        log.info("job stepped back for waiting work", { jobId: job.id, type: job.type });
      } else if (err instanceof JobCancelledError) {
        await completeJob(prisma, job.id, workerId, "CANCELLED");
        log.info("job cancelled by its handler", { jobId: job.id });
      } else {
        const permanent = err instanceof PermanentJobError;
        const message = err instanceof Error ? err.message : String(err);
        const status = await failJob(prisma, job.id, workerId, message, { retryable: !permanent });
        log.error("job failed", { jobId: job.id, type: job.type, status, error: message });
      }
    }

    current = { controller, finished };
    try {
      // A failure to record the outcome (the database down) reaches the loop's error log; the job
      // is not current any more either way, so a later stop() does not wait on it.
      await finished;
    } finally {
      current = undefined;
    }
    return true;
  }

  let lastIdleTask = 0;
  const done = (async (): Promise<PermanentDatabaseFault | null> => {
    log.info("worker started", { workerId, types });
    while (!stopping.signal.aborted) {
      let worked = false;
      try {
        worked = await runOne();
      } catch (err) {
        // A wrong password, role or database never heals: retried, the worker would look alive
        // to its supervisor while doing nothing. (A job it held goes back when its lease runs out.)
        const fault = permanentDatabaseFault(err);
        if (fault) {
          log.error(`worker stopped: ${fault.message}`, { sqlstate: fault.sqlstate });
          stopping.abort();
          return fault;
        }
        // Database hiccup (restart, network): keep the process alive and try again.
        log.error("worker loop error", { error: err instanceof Error ? err.message : String(err) });
      }
      if (!worked && options.onIdle && Date.now() - lastIdleTask >= (options.idleTaskMs ?? 30_000)) {
        lastIdleTask = Date.now();
        await options.onIdle().catch((err: unknown) => log.warn("idle task failed", { error: String(err) }));
      }
      if (!worked && !stopping.signal.aborted) {
        await sleep(pollMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
    log.info("worker stopped", { workerId });
    return null;
  })();

  return {
    workerId,
    done,
    async stop() {
      stopping.abort();
      const running = current;
      if (running) {
        const timer = setTimeout(
          () => running.controller.abort("shutdown" satisfies AbortReason),
          shutdownGraceMs,
        );
        // Its failure (an outcome that could not be recorded) is the loop's to log, not stop()'s.
        await running.finished.catch(() => undefined);
        clearTimeout(timer);
      }
      await done;
    },
  };
}
