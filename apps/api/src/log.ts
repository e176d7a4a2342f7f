// JSON-lines logger. Never pass patient identifiers (patientRef) or request variables: a case
// is named by its accession only, a user by login.
export type LogLevel = "silent" | "error" | "info" | "debug";
const ORDER: Record<LogLevel, number> = { silent: 0, error: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l + "\n")): Logger {
  const emit = (at: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] > ORDER[level]) return;
    write(JSON.stringify({ t: new Date().toISOString(), level: at, msg, ...fields }));
  };
  return {
    error: (m, f) => emit("error", m, f),
    info: (m, f) => emit("info", m, f),
    debug: (m, f) => emit("debug", m, f),
  };
}

/** An internal error for the log: name and message and the top frames, without SQL parameters. */
export function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    return { errorName: err.name, errorMessage: err.message.slice(0, 500), stack: err.stack?.split("\n").slice(0, 6).join(" | ") };
  }
  return { errorMessage: String(err).slice(0, 500) };
}
