import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { migrationsDir } from "../paths.ts";

export interface MigrationFile {
  /** Folder name, e.g. 20261125000000_init; the timestamp prefix orders them. */
  name: string;
  sql: string;
  /** sha256 of the file, as Prisma records it in _prisma_migrations.checksum. */
  checksum: string;
}

/** The committed migrations under prisma/migrations, oldest first. */
export async function readMigrationFiles(dir = migrationsDir): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}
