// npm run migrate -w @rcmnet/db   — applies committed migrations as the tables' owner:
// RCMNET_MIGRATION_DATABASE_URL, else DATABASE_URL, as every start does (openDatabase.ts). In the
// split-role install DATABASE_URL is the platform's role, which may not run DDL.
// Exits 0 when migrated, 2 when neither URL is set, 1 when migrating failed (one line saying why;
// each migration runs in its own transaction, so a failed one leaves no partial schema).
import { applyMigrations } from "../migrations/applyMigrations.ts";

const url = process.env.RCMNET_MIGRATION_DATABASE_URL || process.env.DATABASE_URL;
if (!url) {
  console.error("Neither RCMNET_MIGRATION_DATABASE_URL nor DATABASE_URL is set (the embedded database migrates itself on start)");
  process.exit(2);
}
try {
  const { applied, alreadyApplied } = await applyMigrations(url);
  console.log(`Applied ${applied.length} migration(s)${applied.length ? `: ${applied.join(", ")}` : ""}; ${alreadyApplied.length} already applied.`);
} catch (err) {
  // A history this version cannot stand on, a failing migration, a server that does not answer:
  // what to do is in the message, not in a stack trace.
  console.error(`Not migrated: ${err instanceof Error ? err.message || err.name : String(err)}`);
  process.exit(1);
}
