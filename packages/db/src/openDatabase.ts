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
    const roleWarning = await checkPlatformRole(options.databaseUrl, { production, allowOwnerRole });
    if (roleWarning) console.warn(`[db] ${roleWarning}`);
    return { url: options.databaseUrl, embedded: false, close: async () => {} };
  }
  const server = await startEmbeddedPostgres({
    dataDir: join(options.dataDir, "pglite"),
    ...(options.embeddedPort === undefined ? {} : { port: options.embeddedPort }),
  });
  // The embedded database has one role, its superuser: the demo's and a single-user evaluation's,
  // said nothing of outside production (the quick start), refused in production as above.
  if (production) {
    try {
      const roleWarning = await checkPlatformRole(server.url, { production, allowOwnerRole, embedded: true });
      if (roleWarning) console.warn(`[db] ${roleWarning}`);
    } catch (err) {
      await server.stop();
      throw err;
    }
  }
  return { url: server.url, embedded: true, close: () => server.stop() };
}
