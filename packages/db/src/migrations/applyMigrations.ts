// Applies committed migrations over a plain PostgreSQL connection, recording them in the
// same `_prisma_migrations` table Prisma uses, so `prisma migrate status` and this agree.
// Runs offline, against a server or the embedded PGlite, with no engine download.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { readMigrationFiles, type MigrationFile } from "./migrationFiles.ts";

const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/** Any number that no other advisory lock in the system uses. */
const MIGRATION_LOCK = 7243000;

/**
 * `permanent`: the database's history is one this version cannot migrate (a migration it does not
 * know, one edited after it ran, one left unfinished): no restart clears it. A migration that
 * failed as it ran (a lock timeout, a full disk) may pass on the next start.
 */
export class MigrationError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

export interface ApplyResult {
  applied: string[];
  alreadyApplied: string[];
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished: boolean;
}

/**
 * Refuses a history this code cannot stand on. A migration that started and never finished
 * (`prisma migrate deploy` leaves such a row; ours roll back whole) may have left part of its
 * schema behind. One this code does not know means a newer release migrated the database: the
 * older code would run against tables it was not written for (and its guards may be gone).
 */
function refuseForeignHistory(rows: HistoryRow[], files: MigrationFile[]): void {
  const unfinished = rows.filter((r) => !r.finished).map((r) => r.migration_name);
  if (unfinished.length > 0) {
    throw new MigrationError(
      `migration ${unfinished.join(", ")} started and never finished; inspect the schema, undo what ` +
        `it left, then mark it rolled back before starting again (as the tables' owner: UPDATE ` +
        `"_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${unfinished[0]}')`,
      true,
    );
  }
  const known = new Set(files.map((f) => f.name));
  const foreign = rows.map((r) => r.migration_name).filter((name) => !known.has(name));
  if (foreign.length > 0) {
    throw new MigrationError(
      `the database has migration ${foreign.join(", ")}, which this version does not know: a newer ` +
        `release migrated it; run that release (or restore a backup taken before it)`,
      true,
    );
  }
}

/**
 * Brings the database at `connectionString` up to date. Safe to call from several processes
 * at once (an advisory lock serialises them) and on every start (applied ones are skipped).
 * Each migration runs in its own transaction: a failing one leaves no partial schema.
 */
export async function applyMigrations(
  connectionString: string,
  migrations?: MigrationFile[],
): Promise<ApplyResult> {
  const files = migrations ?? (await readMigrationFiles());
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query(CREATE_HISTORY_TABLE);
    const { rows } = await client.query<HistoryRow>(
      `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished FROM "_prisma_migrations"
        WHERE rolled_back_at IS NULL`,
    );
    refuseForeignHistory(rows, files);
    const done = new Map(rows.map((r) => [r.migration_name, r.checksum]));
    const result: ApplyResult = { applied: [], alreadyApplied: [] };
    for (const m of files) {
      const recorded = done.get(m.name);
      if (recorded !== undefined) {
        // An edited migration that already ran would make this database differ from a fresh one.
        if (recorded !== m.checksum) {
          throw new MigrationError(
            `migration ${m.name} was modified after it was applied (checksum differs); ` +
              `add a new migration instead of editing a committed one`,
            true,
          );
        }
        result.alreadyApplied.push(m.name);
        continue;
      }
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations"
             (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), now(), 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      result.applied.push(m.name);
    }
    return result;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    await client.end();
  }
}
