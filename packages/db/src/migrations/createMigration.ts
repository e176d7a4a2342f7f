// Creates a new migration for the schema changes not yet covered by one, offline and without a
// database: Prisma's schema engine (WebAssembly build) diffs the schema as of the last
// migration (a copy kept beside its migration.sql) against prisma/schema.prisma. The engine
// insists on a reachable PostgreSQL server at start-up, though it reads nothing from it.
// Why not diff a live database: the engine's introspection reads pg_catalog columns of type
// "char", which @prisma/adapter-pg 7.10 cannot map, so a datamodel-to-datamodel diff is the
// path that works here.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import { migrationsDir, schemaPath } from "../paths.ts";
import { readMigrationFiles } from "./migrationFiles.ts";
import { loadSchemaEngine } from "./schemaEngine.ts";

export const SNAPSHOT_FILE = "schema.prisma";

export interface CreateMigrationResult {
  /** Folder written, or null when the schema already matches the migrations. */
  dir: string | null;
  sql: string;
}

/** The SQL that takes a database from schema `from` (null: empty) to schema `to`. */
export async function diffSchemas(serverUrl: string, from: string | null, to: string): Promise<string> {
  const SchemaEngine = await loadSchemaEngine();
  // The engine opens a connection on start even for a datamodel-only diff; it reads nothing.
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: serverUrl }));
  const engine = await SchemaEngine.new({ datamodels: [["schema.prisma", to]] }, () => {}, adapter);
  try {
    const diff = await engine.diff({
      from: from === null ? { tag: "empty" } : { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: from }] },
      to: { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: to }] },
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    const sql = (diff.stdout ?? "").trim();
    return /^-- This is an empty migration\.?$/.test(sql) ? "" : sql;
  } finally {
    engine.free();
  }
}

export async function createMigration(serverUrl: string, name: string, now = new Date()): Promise<CreateMigrationResult> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error("migration name: lowercase letters, digits and _ only");
  const schema = await readFile(schemaPath, "utf8");
  const last = (await readMigrationFiles()).at(-1);
  const previous = last ? await readFile(join(migrationsDir, last.name, SNAPSHOT_FILE), "utf8") : null;
  const sql = await diffSchemas(serverUrl, previous, schema);
  if (sql === "") return { dir: null, sql };
  const stamp = now.toISOString().replace(/\D/g, "").slice(0, 14);
  const dir = join(migrationsDir, `${stamp}_${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "migration.sql"), sql + "\n");
  await writeFile(join(dir, SNAPSHOT_FILE), schema);
  return { dir, sql };
}
