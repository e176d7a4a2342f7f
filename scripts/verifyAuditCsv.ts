// Checks a saved audit export (GET /audit.csv) against itself, offline: the closing line's sha256
// over the lines above it, the row count, every row's hash recomputed from its hashedText (and
// hashedText against the row's columns), the links between consecutive events, the head the
// closing line states, and (unfiltered) that no event from #1 to the head is missing.
// `npx tsx scripts/verifyAuditCsv.ts audit-trail.csv` (or `-` for stdin); exit 0 when nothing is
// wrong, 1 when something is, 2 on a usage or read error.
// docs/api.md ("/audit.csv") says what it proves and what it cannot.
import { readFileSync } from "node:fs";
import { checkAuditCsv } from "../apps/api/src/modules/audit/auditCsvFormat.ts";

const path = process.argv[2];
if (!path || process.argv.length > 3) {
  console.error("usage: tsx scripts/verifyAuditCsv.ts <audit-trail.csv | ->");
  process.exit(2);
}
let text: string;
try {
  text = readFileSync(path === "-" ? 0 : path, "utf8");
} catch (err) {
  console.error(`cannot read ${path}: ${(err as Error).message}`);
  process.exit(2);
}
const check = checkAuditCsv(text);
console.log(`${check.rows} rows: ${check.rehashed} re-hashed, ${check.linked} links checked${check.withheld ? `, ${check.withheld} without hashes${check.head?.hash ? "" : " (redacted for the exporting role: re-hash from an AUDITOR export)"}` : ""}`);
if (check.head) console.log(`head at export: event #${check.head.seq} ${check.head.hash ?? "(hash withheld)"}`);
for (const problem of check.problems) console.log(`PROBLEM: ${problem}`);
if (!check.ok) console.log("FAILED");
else if (check.rehashed === 0 && check.withheld > 0) console.log("OK as far as it goes: the lines are as exported (sha256), but no event could be re-hashed");
else console.log(`OK: the file is as exported${check.withheld ? ", except the rows without hashes, checked only by the sha256" : ""}${check.unfiltered ? "; unfiltered: every event from #1 to the head is here" : ""}`);
process.exit(check.ok ? 0 : 1);
