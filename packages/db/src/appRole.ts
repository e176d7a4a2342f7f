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

/** Set to 1, lets a production start connect as a role that can change the audit trail (single-user evaluation only). */
export const ALLOW_OWNER_ROLE_VAR = "RCMNET_ALLOW_OWNER_ROLE";

/**
 * Set to 1 by `npm start` for its children when DATABASE_URL is the embedded database it opened:
 * its one role is a superuser, said nothing of outside production (there is no other role to
 * use), refused in production as when the API opens it itself.
 */
export const EMBEDDED_DATABASE_VAR = "RCMNET_EMBEDDED_DATABASE";

export interface AuditTrailWriteAccess {
  /** The role the URL signs in as. */
  role: string;
  /** Why that role could change the audit trail ("is a superuser", "owns audit_event", ...), or null: it cannot. */
  access: string | null;
}

type TrailAccessRow = { role: string; owner: string; member: boolean; superuser: boolean; update: boolean; delete: boolean; truncate: boolean };

const TRAIL_ACCESS_SQL = `SELECT current_user::text AS role, t.tableowner::text AS owner,
       pg_has_role(current_user, t.tableowner, 'MEMBER') AS member,
       coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS superuser,
       has_table_privilege(current_user, 'public.audit_event', 'UPDATE') AS update,
       has_table_privilege(current_user, 'public.audit_event', 'DELETE') AS delete,
       has_table_privilege(current_user, 'public.audit_event', 'TRUNCATE') AS truncate
  FROM pg_tables t WHERE t.schemaname = 'public' AND t.tablename = 'audit_event'`;

/**
 * What lets the role of `target` (a URL, or a connected client such as the API's PrismaClient)
 * change the audit trail other than by appending to it: being a superuser, owning audit_event (or
 * being a member of its owner: ALTER TABLE ... DISABLE TRIGGER, then rewrite), or holding UPDATE,
 * DELETE or TRUNCATE on it (the triggers refuse those, but a privilege the platform never needs
 * says the grants were not grantAppRole's).
 */
export async function auditTrailWriteAccess(
  target: string | { $queryRawUnsafe<T = unknown>(sql: string): Promise<T> },
): Promise<AuditTrailWriteAccess> {
  let rows: TrailAccessRow[];
  if (typeof target === "string") {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    try {
      rows = (await client.query<TrailAccessRow>(TRAIL_ACCESS_SQL)).rows;
    } finally {
      await client.end();
    }
  } else {
    rows = await target.$queryRawUnsafe<TrailAccessRow[]>(TRAIL_ACCESS_SQL);
  }
  const row = rows[0];
  if (!row) throw new Error("no table audit_event: migrate the database first");
  const privileges = (["update", "delete", "truncate"] as const).filter((p) => row[p]).map((p) => p.toUpperCase());
  const access = row.superuser
    ? "is a superuser"
    : row.owner === row.role
      ? "owns audit_event"
      : row.member
        ? `is a member of ${row.owner}, which owns audit_event`
        : privileges.length
          ? `holds ${privileges.join(", ")} on audit_event`
          : null;
  return { role: row.role, access };
}

/** A production start refused: the platform's role could change the audit trail. */
export class PlatformRoleError extends Error {
  override name = "PlatformRoleError";
}

/**
 * Checks the role the platform connects as (DATABASE_URL) against D2: the application must not be
 * able to change its own audit trail. In production such a role is refused (PlatformRoleError,
 * naming what to set) unless `allowOwnerRole` (RCMNET_ALLOW_OWNER_ROLE=1); otherwise, and when so
 * allowed, answered as a one-line warning. Null: the role cannot change the trail.
 */
export async function checkPlatformRole(
  url: string,
  options: { production: boolean; allowOwnerRole: boolean; embedded?: boolean },
): Promise<string | null> {
  const { role, access } = await auditTrailWriteAccess(url);
  if (!access) return null;
  const subject = options.embedded ? "The embedded database (DATABASE_URL unset) signs in" : "DATABASE_URL signs in";
  const risk = `${subject} as ${JSON.stringify(role)}, which ${access}: the platform could switch off the audit trail's append-only guards and rewrite it (docs/decisions.md D2)`;
  const remedy =
    "Point DATABASE_URL at a login role that does not own the tables and RCMNET_MIGRATION_DATABASE_URL at the tables' owner " +
    "(each start then migrates as the owner and grants the role exactly the platform's privileges; by hand: npm run grant-app-role -w @rcmnet/db -- ROLE)";
  if (options.production && !options.allowOwnerRole) {
    throw new PlatformRoleError(`${risk}. Refusing to start in production. ${remedy}, or set ${ALLOW_OWNER_ROLE_VAR}=1 for a single-user evaluation only.`);
  }
  return options.production
    ? `${risk}; started because ${ALLOW_OWNER_ROLE_VAR}=1 (single-user evaluation only)`
    : `${risk}; a production start (NODE_ENV=production) refuses it unless ${ALLOW_OWNER_ROLE_VAR}=1 (on your own PostgreSQL: another role in DATABASE_URL, the owner in RCMNET_MIGRATION_DATABASE_URL)`;
}
