// What a user is told when a job fails. Technicians see it on the upload page: the reason must
// help them (a corrupt image, a missing file) without showing server paths, database messages or
// stack details, which stay in the worker's log with the job id.
import { PermanentJobError } from "./types.ts";

const ABSOLUTE_PATH = /(?:[A-Za-z]:)?(?:[\\/][\w.@~+-]+){2,}[\\/]?/g;

/** Replaces absolute file paths with <path>. */
export function redactPaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, "<path>");
}

/** A permanent error's own reason (written for users), else a generic one naming the job. */
export function failureReason(err: unknown, jobId: string): string {
  if (err instanceof PermanentJobError) return redactPaths(err.message).slice(0, 500);
  return `analysis failed (internal error; the worker log has the details under job ${jobId})`;
}

/**
 * What readers see of a job error the handler did not phrase for them (a retry's raw error, or a
 * worker that died): its text names hosts, processes and driver messages, so only where to look.
 */
export function jobErrorForReaders(jobId: string, finished: boolean): string {
  return finished
    ? `analysis failed: its worker stopped before finishing (the worker log has the details under job ${jobId})`
    : `the last attempt failed and is retried (the worker log has the details under job ${jobId})`;
}
