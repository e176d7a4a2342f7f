// The embedded default: when no DATABASE_URL is configured, the platform runs PostgreSQL 18
// compiled to WebAssembly (PGlite) in-process and serves it over the wire protocol, so the
// API, worker and web app connect exactly as they would to a real server.
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { applyMigrations } from "./migrations/applyMigrations.ts";

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/** The embedded server's port: npm start's, and what verify-audit probes before it opens the files. */
export const EMBEDDED_PORT = 5433;

export interface EmbeddedOptions {
  /** Folder holding the database files; survives restarts. */
  dataDir: string;
  host?: string;
  port?: number;
  /** Concurrent client connections. PGlite's default is ONE, which breaks any pool. */
  maxConnections?: number;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? EMBEDDED_PORT;
  await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir: options.dataDir });
  const server = new PGLiteSocketServer({ db, host, port, maxConnections: options.maxConnections ?? 30 });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw new Error(`embedded database: cannot listen on ${host}:${port} (${(err as Error).message})`);
  }
  const url = `postgresql://postgres:postgres@${host}:${port}/postgres?sslmode=disable`;
  await applyMigrations(url);
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
