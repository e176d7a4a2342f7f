"use client";
import { ApiError, defaultMessage, fromGraphQLErrors } from "./errors";
import { leaveEndedSession } from "./gql";

/** No byte of the body for this long, and a download is given up as stalled. */
export const DOWNLOAD_IDLE_MS = 30_000;
/**
 * How long the server may take to start answering: longer than between two chunks, as a route may
 * do its work before the first byte (an audit export verifies the hash chain first).
 */
export const DOWNLOAD_START_MS = 120_000;

export interface DownloadProgress {
  /** Bytes of the body received so far (0 when the answer has just begun). */
  received: number;
  /** The body's size where the response states it (content-length, not compressed), else null. */
  total: number | null;
  /** The bytes just received (empty when the answer has just begun), e.g. to count a CSV's rows; not to be kept. */
  chunk: Uint8Array;
}

export interface DownloadOptions {
  /** Told when the answer begins, then after every chunk of its body. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Aborting it cancels the download: nothing is saved, and it rejects with DownloadCancelled. */
  signal?: AbortSignal;
  /** Overrides DOWNLOAD_IDLE_MS (the longest wait for the next chunk). */
  idleMs?: number;
  /** Overrides DOWNLOAD_START_MS (the longest wait for the answer to begin). */
  startMs?: number;
  /** What the messages call it: "download" unless told ("export"). */
  what?: string;
}

/** The user cancelled the download (options.signal): nothing was saved. Not a failure to show as one. */
export class DownloadCancelled extends ApiError {
  constructor(what = "download") {
    super("NETWORK", `The ${what} was cancelled; nothing was saved.`);
    this.name = "DownloadCancelled";
  }
}

/** "532 B", "48.2 kB", "12.4 MB": a size as the page says it. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB"];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 100 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

/**
 * Downloads a file one of this app's routes serves, through the page rather than a plain link
 * (held in the tab until it is saved: fine for an audit export of some hundred MB, no more):
 * a refusal (session ended, wrong role, the API down) is then told on the page, or leads to the
 * session-ended page, instead of failing in the browser's download list or saving the error as
 * the file. Resolves to the response's headers once the file is handed to the browser (what the
 * page may tell about it, e.g. an audit export's chain verdict), or null when it went to sign-in.
 *
 * The body is read chunk by chunk (options.onProgress is told each), and the download is given up,
 * nothing saved, when the user cancels it (options.signal: DownloadCancelled), when the answer does
 * not begin within options.startMs, or when no byte arrives for options.idleMs: a stalled stream
 * would otherwise keep the page waiting for ever. A body cut off part-way is not saved either.
 */
export async function downloadFrom(
  url: string,
  fallbackName: string,
  options: DownloadOptions = {},
): Promise<Headers | null> {
  const {
    onProgress,
    signal,
    idleMs = DOWNLOAD_IDLE_MS,
    startMs = DOWNLOAD_START_MS,
    what = "download",
  } = options;
  if (signal?.aborted) throw new DownloadCancelled(what);
  // Aborts the request and its body, whichever ends it: the user, or a wait that ran out.
  const controller = new AbortController();
  // Why it was stopped (cancelled or stalled): what it rejects with, whatever fetch or the reader throw then.
  let stopped: Error | null = null;
  let rejectStopped: (e: Error) => void = () => {};
  const whenStopped = new Promise<never>((_, reject) => {
    rejectStopped = reject;
  });
  whenStopped.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = (e: Error) => {
    if (stopped) return;
    stopped = e;
    clearTimeout(timer);
    rejectStopped(e);
    controller.abort();
  };
  const onAbort = () => stop(new DownloadCancelled(what));
  signal?.addEventListener("abort", onAbort, { once: true });
  /** One wait (the answer, the next chunk), given up after `ms` or when the user cancels. */
  const within = async <T>(step: Promise<T>, ms: number, stall: () => string): Promise<T> => {
    clearTimeout(timer);
    timer = setTimeout(() => stop(new ApiError("NETWORK", stall())), ms);
    try {
      return await Promise.race([step, whenStopped]);
    } finally {
      clearTimeout(timer);
    }
  };
  const tryAgain = "Try again; tell your administrator if it keeps happening.";

  try {
    const res = await within(
      fetch(url, { signal: controller.signal }),
      startMs,
      () =>
        `The ${what} did not start: the server sent nothing for ${seconds(startMs)}, so it was stopped; nothing was saved. ${tryAgain}`,
    );
    if (!res.ok) {
      // Not this app's JSON error (a proxy's HTML page, say): its text is not shown.
      const code = res.status >= 500 ? "UNAVAILABLE" : "INTERNAL";
      const error = (res.headers.get("content-type") ?? "").includes("json")
        ? fromGraphQLErrors(
            (
              (await within(
                res.json().catch(() => ({})),
                idleMs,
                () => `The ${what} failed (HTTP ${res.status}); nothing was saved.`,
              )) as { errors?: [] }
            ).errors ?? [],
            res.status,
          )
        : new ApiError(code, `${defaultMessage(code)} (HTTP ${res.status})`, res.status);
      if (error.code === "UNAUTHENTICATED") {
        leaveEndedSession(error.reason);
        return null;
      }
      throw error;
    }
    const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? fallbackName;
    // A compressed answer's content-length counts other bytes than those read here.
    const length = Number(res.headers.get("content-length"));
    const total =
      !res.headers.get("content-encoding") && Number.isFinite(length) && length > 0 ? length : null;
    const chunks: Uint8Array[] = [];
    let received = 0;
    onProgress?.({ received, total, chunk: new Uint8Array(0) });
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          let step: ReadableStreamReadResult<Uint8Array>;
          try {
            step = await within(
              reader.read(),
              idleMs,
              () =>
                `The ${what} stalled: nothing arrived for ${seconds(idleMs)} after ${formatBytes(received)}, so it was stopped; nothing was saved. ${tryAgain}`,
            );
          } catch (e) {
            if (stopped) throw e;
            // The connection dropped or the server failed part-way: a partial file is not saved.
            throw new ApiError(
              "NETWORK",
              `The ${what} was cut off after ${formatBytes(received)} (the connection or the server failed); nothing was saved. ${tryAgain}`,
            );
          }
          if (step.done) break;
          chunks.push(step.value);
          received += step.value.byteLength;
          onProgress?.({ received, total, chunk: step.value });
        }
      } finally {
        if (stopped) void reader.cancel().catch(() => {});
      }
    }
    // Cancelled as the last chunk came in: still nothing saved.
    if (stopped) throw stopped;
    const href = URL.createObjectURL(
      new Blob(chunks as BlobPart[], { type: res.headers.get("content-type") ?? "" }),
    );
    const a = document.createElement("a");
    a.href = href;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 60_000);
    return res.headers;
  } catch (e) {
    // The reason it was stopped, not the AbortError fetch or the reader answer it with.
    throw stopped ?? e;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
