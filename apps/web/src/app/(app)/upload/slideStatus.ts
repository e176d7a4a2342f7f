// What the upload page says of an image waiting for, or in, its analysis: a technician watching
// a bar that does not move must learn whether to wait, or to call someone.

/** Waiting this long for an analyser is no longer a busy queue: no worker is taking jobs. */
export const STALE_WAIT_MS = 10 * 60_000;

export interface SlideStatusInput {
  /** PENDING, RUNNING, DONE or FAILED (SlideAnalysis.status). */
  status: string;
  /** attempts and maxAttempts where the query asks for them. */
  job: { step: string | null; error?: string | null; attempts?: number | null; maxAttempts?: number | null } | null;
  /** Since when the image is known to wait for an analyser (ms since the epoch), or null. */
  waitingSince: number | null;
}

function attemptOf(job: SlideStatusInput["job"]): { attempts: number; maxAttempts: number } | null {
  return job && typeof job.attempts === "number" && typeof job.maxAttempts === "number" && job.attempts > 0
    ? { attempts: job.attempts, maxAttempts: job.maxAttempts }
    : null;
}

/** The line under an image's analysis bar; empty once it is done or failed (its status and error say it). */
export function slideStatusText(slide: SlideStatusInput, now: number): string {
  const attempt = attemptOf(slide.job);
  if (slide.status === "RUNNING") {
    const step = slide.job?.step ?? "analysing";
    return attempt && attempt.attempts > 1 ? `${step} (attempt ${attempt.attempts} of ${attempt.maxAttempts})` : step;
  }
  if (slide.status !== "PENDING") return "";
  const error = slide.job?.error ?? null;
  const waited = slide.waitingSince === null ? 0 : now - slide.waitingSince;
  if (waited >= STALE_WAIT_MS) {
    const minutes = Math.floor(waited / 60_000);
    return `No analyser has picked this up yet (waiting ${minutes} minutes): tell your administrator.${error ? ` Last attempt: ${error}` : ""}`;
  }
  // A job back in the queue with an error waits for its retry (a backoff of up to 5 minutes).
  if (error) return attempt ? `Attempt ${attempt.attempts} of ${attempt.maxAttempts} failed; retrying shortly: ${error}` : `Retrying shortly: ${error}`;
  return "Waiting for an analyser";
}

/**
 * When this page first saw each image waiting (PENDING); an image that moved on is forgotten, so
 * a later wait (its analysis queued again) counts from then. The job's own queue time is not
 * what the page's query asks for, and a slide's upload time is not when a re-analysis was queued.
 * Gives `prev` back unchanged when nothing changed, so that it can be kept in React state.
 */
export function trackWaiting(prev: Readonly<Record<string, number>>, slides: readonly { slideId: string; status: string }[], now: number): Record<string, number> {
  const next: Record<string, number> = {};
  for (const s of slides) if (s.status === "PENDING") next[s.slideId] = prev[s.slideId] ?? now;
  const same = Object.keys(next).length === Object.keys(prev).length && Object.keys(next).every((id) => prev[id] === next[id]);
  return same ? (prev as Record<string, number>) : next;
}
