// npm run migrate:dev -w @rcmnet/db -- NAME
// Writes prisma/migrations/<timestamp>_NAME/ for the schema changes not yet covered by a
// migration. Offline: no download; a PostgreSQL server must answer (DATABASE_URL, else local). Hand-written SQL (triggers,
// functions) can then be appended to the new migration.sql before it is committed.
import { createMigration } from "../migrations/createMigration.ts";

const name = process.argv[2];
if (!name) {
  console.error("usage: npm run migrate:dev -w @rcmnet/db -- <name>");
  process.exit(2);
}
// `DATABASE_URL=` (empty, the shell's way to unset it) is unset: the local server.
const server = process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres";
const { dir, sql } = await createMigration(server, name);
if (dir === null) console.log("Schema and migrations agree: nothing to do.");
else console.log(`Wrote ${dir}/migration.sql\n\n${sql}`);
