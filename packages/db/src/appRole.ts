// The API and its workers need not own the tables, and should not: as the owner they could switch
// the append-only triggers off (ALTER TABLE ... DISABLE TRIGGER), rewrite rows, recompute the
// audit chain with the database's own hash function, and nothing inside the database would show
// it. grantAppRole gives a login role exactly what the platform does with its data: read it,
// insert rows, update the workflow tables, delete ended sessions. Never DDL, TRUNCATE, temporary
// tables, or UPDATE and DELETE on the append-only records (audit trail, predictions, reviews,
// sign-offs, datasets).
import pg from "pg";

/** Tables whose rows change state (case status, job leases, ...); everything else is insert-only. */
export const WORKFLOW_TABLES = ["case", "slide", "cell", "user", "api_session", "job", "model_version", "model_promotion", "training_run", "unknown_login_lockout"] as const;

const ROLE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Run as the tables' owner, after every migration (new tables need their grants too). Answers
 * what it could not do: TEMPORARY stays with the role where only the database's owner can take it
 * away (the guards do not depend on it since they pin their search path: defence in depth, so an
 * install whose tables' owner does not own the database still starts, and says so).
 */
export async function grantAppRole(ownerUrl: string, role: string): Promise<{ warning: string | null }> {
  if (!ROLE.test(role)) throw new Error(`role name ${JSON.stringify(role)}: use lower-case letters, digits and _ only`);
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'",
    );
    const tables = new Set(rows.map((r) => r.tablename));
    const missing = WORKFLOW_TABLES.filter((t) => !tables.has(t));
    if (missing.length) throw new Error(`no table ${missing.join(", ")}: migrate the database first`);
    await client.query("BEGIN");
    await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    // A clean slate first: a grant made by hand earlier (DELETE on the audit trail) goes away.
    await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`);
    for (const t of tables) await client.query(`GRANT SELECT, INSERT ON "${t}" TO ${role}`);
    // UPDATE also lets SELECT ... FOR UPDATE lock a case, a job or a run.
    for (const t of WORKFLOW_TABLES) await client.query(`GRANT UPDATE ON "${t}" TO ${role}`);
    // Ended and expired sessions are swept (sign-ins and sign-outs stay in the audit trail).
    await client.query(`GRANT DELETE ON "api_session" TO ${role}`);
    // Failure counts at unknown logins go once their window has passed (attempts stay in the trail).
    await client.query(`GRANT DELETE ON "unknown_login_lockout" TO ${role}`);
    // Readable (what `prisma migrate status` reads), never written: migrating is the owner's.
    await client.query(`GRANT SELECT ON "_prisma_migrations" TO ${role}`);
    // No temporary tables: the temporary schema comes first in a search path that does not name
    // it, so a temporary "case" or "audit_event" would shadow the real one for any function that
    // does not pin its path (the guards do, since migration integrity_review_guards). The platform
    // creates none. PostgreSQL grants TEMPORARY to PUBLIC, so it is taken from PUBLIC: revoking it
    // from the role alone would change nothing. Only the database's owner or a superuser can.
    const { rows: dbs } = await client.query<{ db: string }>("SELECT quote_ident(current_database()) AS db");
    const db = dbs[0]!.db;
    await client.query(`REVOKE TEMPORARY ON DATABASE ${db} FROM PUBLIC, ${role}`);
    const { rows: temp } = await client.query<{ held: boolean }>(
      "SELECT has_database_privilege($1, current_database(), 'TEMPORARY') AS held",
      [role],
    );
    await client.query("COMMIT");
    return {
      warning: temp[0]!.held
        ? `${role} can still create temporary tables in database ${db}, and the tables' owner cannot revoke that: as the ` +
          `database's owner or a superuser, run REVOKE TEMPORARY ON DATABASE ${db} FROM PUBLIC, ${role} (and from any role ` +
          `${role} is a member of; a superuser keeps it)`
        : null,
    };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
