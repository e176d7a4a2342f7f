import { join } from "node:path";
import { startEmbeddedPostgres } from "./embedded.ts";
import { applyMigrations } from "./migrations/applyMigrations.ts";
import { ALLOW_OWNER_ROLE_VAR, checkPlatformRole, grantAppRole } from "./appRole.ts";

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; when absent the embedded server is started. */
  databaseUrl?: string | undefined;
  /**
   * The tables' owner, to migrate with; `databaseUrl` may then be a role without DDL rights, given
   * exactly the platform's privileges (grantAppRole) on every start. Absent: `databaseUrl`
   * migrates, and so must own the tables.
   */
  migrationUrl?: string | undefined;
  /**
   * A production start: a `databaseUrl` whose role could change the audit trail (the tables'
   * owner, a superuser, UPDATE/DELETE/TRUNCATE on audit_event) is refused (PlatformRoleError)
   * unless `allowOwnerRole`; outside production it is a warning. Default: NODE_ENV=production.
   */
  production?: boolean | undefined;
  /** RCMNET_ALLOW_OWNER_ROLE=1 (the default reads it): single-user evaluation only. */
  allowOwnerRole?: boolean | undefined;
  /**
   * `databaseUrl` is the embedded database a launcher opened (npm start's children:
   * RCMNET_EMBEDDED_DATABASE=1): its role is checked as when opened here, nothing said outside
   * production. Default false.
   */
  embedded?: boolean | undefined;
  /** false: the role of `databaseUrl` is not checked (an API cluster worker: its primary did). Default true. */
  checkRole?: boolean | undefined;
  /** Local state folder; the embedded database lives in `<dataDir>/pglite`. */
  dataDir: string;
  embeddedPort?: number;
}

export interface OpenDatabase {
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

/** The platform's database, migrated and ready: the configured server, else the embedded one. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenDatabase> {
  const production = options.production ?? process.env.NODE_ENV === "production";
  const allowOwnerRole = options.allowOwnerRole ?? process.env[ALLOW_OWNER_ROLE_VAR] === "1";
  if (options.databaseUrl) {
    await applyMigrations(options.migrationUrl || options.databaseUrl);
    // The platform's own role gets what it needs on the tables as migrated now, new ones included.
    const appRole = decodeURIComponent(new URL(options.databaseUrl).username);
    if (options.migrationUrl && appRole && appRole !== decodeURIComponent(new URL(options.migrationUrl).username)) {
      const { warning } = await grantAppRole(options.migrationUrl, appRole);
      // Started anyway (the guards pin their search path); said at every start until it is done.
      if (warning) console.warn(`[db] ${warning}`);
    }
    // The application must not be able to change its own audit trail (D2): said before anything
    // else connects, refused in production.
    if (options.checkRole !== false) {
      await checkRole(options.databaseUrl, { production, allowOwnerRole, embedded: options.embedded ?? false });
    }
    return { url: options.databaseUrl, embedded: false, close: async () => {} };
  }
  const server = await startEmbeddedPostgres({
    dataDir: join(options.dataDir, "pglite"),
    ...(options.embeddedPort === undefined ? {} : { port: options.embeddedPort }),
  });
  if (options.checkRole !== false) {
    try {
      await checkRole(server.url, { production, allowOwnerRole, embedded: true });
    } catch (err) {
      await server.stop();
      throw err;
    }
  }
  return { url: server.url, embedded: true, close: () => server.stop() };
}

/** checkPlatformRole, its warning written as one line. */
async function checkRole(url: string, options: { production: boolean; allowOwnerRole: boolean; embedded: boolean }): Promise<void> {
  // The embedded database has one role, its superuser: the demo's and a single-user evaluation's,
  // said nothing of outside production (the quick start: no other role to use), refused in
  // production as any other.
  if (options.embedded && !options.production) return;
  const roleWarning = await checkPlatformRole(url, options);
  if (roleWarning) console.warn(`[db] ${roleWarning}`);
}
