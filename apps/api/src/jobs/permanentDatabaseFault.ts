// Which database errors a worker must not wait out. A database restarting, unreachable or not
// migrated yet heals (the worker may start before the API migrates), so those are retried; a
// wrong password, an unknown role or an unknown database in DATABASE_URL never does, and a worker
// retrying them for ever shows "running" to its supervisor while it does nothing.

/** A fault only a corrected DATABASE_URL (or server configuration) can clear. */
export interface PermanentDatabaseFault {
  /** The PostgreSQL SQLSTATE behind it. */
  sqlstate: string;
  /** One line: what is wrong, the server's own words, and what to fix. */
  message: string;
}

/**
 * By SQLSTATE (node-postgres's `code`, and Prisma's driverAdapterError `originalCode`). Not 42501
 * (permission denied on a table): the API's start grants the platform's role its privileges, and
 * a worker may start before it has.
 */
const FAULTS: Record<string, string> = {
  "28P01": "the password in DATABASE_URL is wrong for its role",
  "28000": "the database server lets DATABASE_URL's role in nowhere (an unknown role, one without LOGIN, or no pg_hba.conf entry for it)",
  "3D000": "the database named in DATABASE_URL does not exist",
};

/**
 * Prisma's connection codes, for an error that carries no SQLSTATE of its own (measured against
 * PostgreSQL 15 through @rcmnet/db's client: a wrong password is P1000, an unknown role P1010, an
 * unknown database P1003; raw queries answer P2010 with the SQLSTATE in meta instead).
 */
const PRISMA_CODES: Record<string, string> = { P1000: "28P01", P1010: "28000", P1003: "3D000" };

/** What a driver or Prisma error says about itself (the fields read here, all optional). */
interface DatabaseErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; originalMessage?: unknown } } };
}

/** `err` and the errors it wraps (`cause`), a few deep: a wrapper of ours may hold Prisma's or the driver's. */
function* errorChain(err: unknown): Generator<DatabaseErrorLike> {
  for (let e = err, depth = 0; e !== null && typeof e === "object" && depth < 5; depth++) {
    yield e as DatabaseErrorLike;
    e = (e as DatabaseErrorLike).cause;
  }
}

/** The fault `err` is, or null for one that may heal (connection refused, not migrated, anything else). */
export function permanentDatabaseFault(err: unknown): PermanentDatabaseFault | null {
  for (const e of errorChain(err)) {
    const driver = e.meta?.driverAdapterError?.cause;
    const sqlstate =
      typeof driver?.originalCode === "string" ? driver.originalCode : typeof e.code === "string" ? (PRISMA_CODES[e.code] ?? e.code) : undefined;
    const what = sqlstate === undefined ? undefined : FAULTS[sqlstate];
    if (sqlstate === undefined || what === undefined) continue;
    // The server's words name the role or the database; Prisma's own message can run to a code frame.
    const said = typeof driver?.originalMessage === "string" ? driver.originalMessage : String(e.message ?? "").trim().split("\n")[0];
    return {
      sqlstate,
      message: `${what} (SQLSTATE ${sqlstate}: ${said}). Retrying cannot fix this: correct DATABASE_URL and start again.`,
    };
  }
  return null;
}
