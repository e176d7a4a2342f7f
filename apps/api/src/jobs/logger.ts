import type { JobLogger } from "./types.ts";

/**
 * One JSON object per line on stdout/stderr, for log shippers. Callers pass ids (job, slide,
 * case, run) only: patient references and accession-linked free text never go to logs.
 */
export function jsonLogger(base: Record<string, unknown> = {}): JobLogger {
  const write =
    (level: string, stream: NodeJS.WriteStream) => (message: string, fields?: Record<string, unknown>) => {
      stream.write(
        `${JSON.stringify({ t: new Date().toISOString(), level, msg: message, ...base, ...fields })}\n`,
      );
    };
  return {
    info: write("info", process.stdout),
    warn: write("warn", process.stderr),
    error: write("error", process.stderr),
  };
}

/** Drops everything: for tests that run handlers in-process. */
export const silentLogger: JobLogger = { info() {}, warn() {}, error() {} };
