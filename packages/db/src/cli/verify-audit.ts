// npm run verify-audit -w @rcmnet/db -- --anchor-file PATH [--restored-to TIME]
// Checks the audit trail (a full walk) against an anchor file, with the platform stopped: after a
// restore, the old file against the restored database (docs/operations.md, Restore). Anchors past
// the restored head are listed: events written after the backup, which the restore lost; with
// --restored-to (the backup's time) only those anchored events older than it are a problem.
// Exits 0 when the trail matches the file, 1 on a problem, 2 on a usage error.
// The database: DATABASE_URL, else the embedded one in <RCMNET_DATA_DIR>/pglite (migrated forward
// as npm start would, and on its port: the platform must be stopped).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { checkAnchorFile } from "../audit.ts";
import { createPrismaClient } from "../client.ts";
import { startEmbeddedPostgres } from "../embedded.ts";
import { defaultDataDir } from "../paths.ts";

const usage = "usage: npm run verify-audit -w @rcmnet/db -- --anchor-file <path> [--restored-to <ISO time of the backup>]";
let values: { "anchor-file"?: string | undefined; "restored-to"?: string | undefined };
try {
  ({ values } = parseArgs({ options: { "anchor-file": { type: "string" }, "restored-to": { type: "string" } } }));
} catch (err) {
  console.error(`${(err as Error).message}\n${usage}`);
  process.exit(2);
}
// `npm run -w` runs in packages/db: relative paths are the caller's, from where npm was started.
const callerDir = process.env.INIT_CWD ?? process.cwd();
const dataDir = resolve(callerDir, process.env.RCMNET_DATA_DIR ?? defaultDataDir);
const path = resolve(callerDir, values["anchor-file"] ?? process.env.RCMNET_AUDIT_ANCHOR_FILE ?? join(dataDir, "audit-anchors.jsonl"));
const restoredTo = values["restored-to"] === undefined ? null : new Date(values["restored-to"]);
if (restoredTo && Number.isNaN(restoredTo.getTime())) {
  console.error(`--restored-to: not a time (${values["restored-to"]})\n${usage}`);
  process.exit(2);
}

// A wrong data dir must not quietly create (and check) a new, empty embedded database.
if (!process.env.DATABASE_URL && !existsSync(join(dataDir, "pglite"))) {
  console.error(`no embedded database at ${join(dataDir, "pglite")}: set RCMNET_DATA_DIR to the restored data dir, or DATABASE_URL\n${usage}`);
  process.exit(2);
}
const embedded = process.env.DATABASE_URL ? null : await startEmbeddedPostgres({ dataDir: join(dataDir, "pglite") });
const prisma = createPrismaClient(process.env.DATABASE_URL ?? embedded?.url ?? "", { max: 2 });
try {
  const check = await checkAnchorFile(prisma, path, { restoredTo });
  console.log(`Anchor file ${path}; the trail's head is event #${check.head}.`);
  console.log(`${check.checked} anchor(s) at or below the head checked against their events; the trail re-hashed: ${check.chain.checked} event(s).`);
  if (check.pastHead.length) {
    console.log(`${check.pastHead.length} anchor(s) past the head, events the restored database does not hold (written after the backup, if the restore point is before them):`);
    for (const a of check.pastHead) console.log(`  line ${a.line}: event #${a.seq} of ${a.at.toISOString()}, anchored ${a.writtenAt.toISOString()}`);
  }
  for (const problem of check.problems) console.log(`PROBLEM: ${problem}`);
  console.log(check.ok ? "OK: the restored trail matches the anchor file." : "NOT OK: see the problems above; do not go live on this database before they are explained.");
  process.exitCode = check.ok ? 0 : 1;
} finally {
  await prisma.$disconnect();
  await embedded?.stop();
}
