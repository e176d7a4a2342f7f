import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type { PrismaClient };

export interface ClientOptions {
  /** Pool size; PGlite's socket server serialises everything, so small pools suffice there. */
  max?: number;
}

/**
 * A Prisma client over node-postgres (Prisma 7's Rust-free client: no engine binary). Every
 * connection runs in UTC: columns are `timestamp` without a zone holding UTC (as Prisma writes
 * them), and SQL that compares them with CURRENT_TIMESTAMP (the job queue's runAfter, leases)
 * would otherwise read them in the server's zone, hours off on a server not set to UTC.
 */
export function createPrismaClient(connectionString: string, options: ClientOptions = {}): PrismaClient {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
  // Queued on the new connection before anything else it runs.
  pool.on("connect", (client) => void client.query("SET TIME ZONE 'UTC'").catch(() => undefined));
  // An idle connection the server ended (restart, a dropped database) is discarded by the pool and
  // the next query opens another; without a listener the event would crash the process.
  pool.on("error", () => undefined);
  return new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
}

let singleton: { url: string; client: PrismaClient } | undefined;

/** One client per process (each owns a connection pool). */
export function getPrismaClient(connectionString: string): PrismaClient {
  if (singleton && singleton.url !== connectionString) {
    throw new Error("getPrismaClient: already connected to another database in this process");
  }
  singleton ??= { url: connectionString, client: createPrismaClient(connectionString) };
  return singleton.client;
}
