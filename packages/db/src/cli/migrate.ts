// npm run migrate -w @rcmnet/db   — applies committed migrations to DATABASE_URL.
import { applyMigrations } from "../migrations/applyMigrations.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set (the embedded database migrates itself on start)");
  process.exit(2);
}
const { applied, alreadyApplied } = await applyMigrations(url);
console.log(`Applied ${applied.length} migration(s)${applied.length ? `: ${applied.join(", ")}` : ""}; ${alreadyApplied.length} already applied.`);
