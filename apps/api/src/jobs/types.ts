import type { BlobStore, Job, PrismaClient } from "@rcmnet/db";

/** What the worker logs. Messages must never carry patient identifiers (ids and accessions only). */
export interface JobLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Everything a handler may touch; handlers never read process.env or open their own clients. */
export interface JobServices {
  prisma: PrismaClient;
  blobs: BlobStore;
  /** `<dataDir>`: models live under `<dataDir>/models`, training checkpoints under `<dataDir>/runs`. */
  dataDir: string;
  log: JobLogger;
}

export interface JobContext extends JobServices {
  job: Job;
  workerId: string;
  /** Aborted when the job is cancelled, its lease is lost, or the worker shuts down. */
  signal: AbortSignal;
  /**
   * Records progress (0..1) and a short step name, and renews the lease. Throws JobAbortedError
   * when the job was taken away (cancelled or lease lost), so a handler stops at its next step.
   */
  progress(progress: number, step?: string): Promise<void>;
}

export type JobHandler = (ctx: JobContext) => Promise<void>;

/** A failure that retrying cannot fix (bad payload, missing slide): fail the job at once. */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

/** Thrown inside a handler when the job was cancelled or its lease lost: nothing more is written. */
export class JobAbortedError extends Error {
  override name = "JobAbortedError";
}

/**
 * Thrown by a handler that steps back for more urgent work: the job goes back to the queue behind
 * what is waiting, not counted as an attempt, and its next run resumes (handlers that throw it
 * must be idempotent).
 */
export class JobYieldedError extends Error {
  override name = "JobYieldedError";
}

/** Thrown by a handler that honoured a cancel request of its own domain (e.g. a training run). */
export class JobCancelledError extends Error {
  override name = "JobCancelledError";
}
