// npm run grant-app-role -w @rcmnet/db -- ROLE
// Gives an existing login role what the API and workers need and nothing more (no DDL, no
// TRUNCATE, no UPDATE/DELETE on append-only records), connecting as the tables' owner:
// RCMNET_MIGRATION_DATABASE_URL, else DATABASE_URL. Run it again after every upgrade.
// Exits 0 when granted; 1 when granted, but the role can still create temporary tables (what to
// run, and as whom, is said); 2 on a usage error (no role, no URL, a name that is not lower-case
// letters, digits and _); 3 when nothing was granted (the role does not exist, the database is not
// migrated or cannot be reached: one line saying why; the grants are one transaction).
import { grantAppRole } from "../appRole.ts";

const usage = "usage: RCMNET_MIGRATION_DATABASE_URL=<owner url> npm run grant-app-role -w @rcmnet/db -- <role>";
const role = process.argv[2];
const ownerUrl = process.env.RCMNET_MIGRATION_DATABASE_URL || process.env.DATABASE_URL;
if (!role || !ownerUrl) {
  console.error(usage);
  process.exit(2);
}
let warning: string | null;
try {
  ({ warning } = await grantAppRole(ownerUrl, role));
} catch (err) {
  const message = err instanceof Error ? err.message || err.name : String(err);
  // grantAppRole refuses a name it would not quote safely before it connects: a usage error.
  if (message.startsWith("role name ")) {
    console.error(`${message}\n${usage}`);
    process.exit(2);
  }
  console.error(`Nothing granted to ${role}: ${message}`);
  process.exit(3);
}
if (warning) {
  console.error(`Granted ${role} the platform's privileges, but: ${warning}.`);
  process.exit(1);
}
console.log(`Granted ${role} the platform's privileges; point DATABASE_URL at it and keep the owner's URL in RCMNET_MIGRATION_DATABASE_URL.`);
