import { join } from "node:path";
import { startEmbeddedPostgres } from "./embedded.ts";
import { applyMigrations } from "./migrations/applyMigrations.ts";
import { grantAppRole } from "./appRole.ts";

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; when absent the embedded server is started. */
  databaseUrl?: string | undefined;
  /**
   * The tables' owner, to migrate with; `databaseUrl` may then be a role without DDL rights, given
   * exactly the platform's privileges (grantAppRole) on every start. Absent: `databaseUrl`
   * migrates, and so must own the tables.
   */
  migrationUrl?: string | undefined;
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
  if (options.databaseUrl) {
    await applyMigrations(options.migrationUrl || options.databaseUrl);
    // The platform's own role gets what it needs on the tables as migrated now, new ones included.
    const appRole = decodeURIComponent(new URL(options.databaseUrl).username);
    if (options.migrationUrl && appRole && appRole !== decodeURIComponent(new URL(options.migrationUrl).username)) {
      const { warning } = await grantAppRole(options.migrationUrl, appRole);
      // Started anyway (the guards pin their search path); said at every start until it is done.
      if (warning) console.warn(`[db] ${warning}`);
    }
    return { url: options.databaseUrl, embedded: false, close: async () => {} };
  }
  const server = await startEmbeddedPostgres({
    dataDir: join(options.dataDir, "pglite"),
    ...(options.embeddedPort === undefined ? {} : { port: options.embeddedPort }),
  });
  return { url: server.url, embedded: true, close: () => server.stop() };
}
