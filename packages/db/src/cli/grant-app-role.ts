// npm run grant-app-role -w @rcmnet/db -- ROLE
// Gives an existing login role what the API and workers need and nothing more (no DDL, no
// TRUNCATE, no UPDATE/DELETE on append-only records), connecting as the tables' owner:
// RCMNET_MIGRATION_DATABASE_URL, else DATABASE_URL. Run it again after every upgrade.
import { grantAppRole } from "../appRole.ts";

const role = process.argv[2];
const ownerUrl = process.env.RCMNET_MIGRATION_DATABASE_URL || process.env.DATABASE_URL;
if (!role || !ownerUrl) {
  console.error("usage: RCMNET_MIGRATION_DATABASE_URL=<owner url> npm run grant-app-role -w @rcmnet/db -- <role>");
  process.exit(2);
}
const { warning } = await grantAppRole(ownerUrl, role);
if (warning) {
  console.error(`Granted ${role} the platform's privileges, but: ${warning}.`);
  process.exit(1);
}
console.log(`Granted ${role} the platform's privileges; point DATABASE_URL at it and keep the owner's URL in RCMNET_MIGRATION_DATABASE_URL.`);
