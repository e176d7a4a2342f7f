// Checks a saved audit export (GET /audit.csv) against itself, offline: the closing line's sha256
// over the lines above it, the row count, every row's hash recomputed from its hashedText (and
// hashedText against the row's columns), the links between consecutive events, the head the
// closing line states, and (unfiltered) that no event from #1 to the head is missing. With
// `--key`, the platform's public key (GET /audit/export-key), the closing line's Ed25519
// signature too: the one check a copy rewritten and resealed with a new sha256 cannot pass.
// `npx tsx scripts/verifyAuditCsv.ts [--key export-key.pem] audit-trail.csv` (or `-` for stdin);
// exit 0 when nothing is wrong, 1 when something is, 2 on a usage or read error.
// docs/api.md ("/audit.csv") says what it proves and what it cannot.
import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { checkAuditCsv, exportKeyFingerprint } from "../apps/api/src/modules/audit/auditCsvFormat.ts";

const USAGE = "usage: tsx scripts/verifyAuditCsv.ts [--key <export-key.pem>] <audit-trail.csv | ->";

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const args = process.argv.slice(2);
let keyPath: string | undefined;
if (args[0] === "--key") {
  keyPath = args[1];
  args.splice(0, 2);
  if (!keyPath) fail(USAGE);
}
const path = args[0];
if (!path || args.length > 1) fail(USAGE);

let publicKey: KeyObject | undefined;
if (keyPath) {
  try {
    publicKey = createPublicKey(readFileSync(keyPath, "utf8"));
  } catch (err) {
    fail(`cannot read the key ${keyPath}: ${(err as Error).message}`);
  }
  if (publicKey.asymmetricKeyType !== "ed25519") fail(`${keyPath} is a ${publicKey.asymmetricKeyType ?? "unknown"} key, not the Ed25519 key audit exports are signed with`);
}
let text: string;
try {
  text = readFileSync(path === "-" ? 0 : path, "utf8");
} catch (err) {
  fail(`cannot read ${path}: ${(err as Error).message}`);
}
const check = checkAuditCsv(text, { publicKey });
console.log(`${check.rows} rows: ${check.rehashed} re-hashed, ${check.linked} links checked${check.withheld ? `, ${check.withheld} without hashes${check.head?.hash ? "" : " (redacted for the exporting role: re-hash from an AUDITOR export)"}` : ""}`);
if (check.head) console.log(`head at export: event #${check.head.seq} ${check.head.hash ?? "(hash withheld)"}`);
if (check.chain) console.log(`chain at export, as the platform found it: ${check.chain}`);
if (publicKey) {
  if (check.signature?.verified) console.log(`signature OK by key ${check.signature.key}`);
  else console.log(`signature NOT OK by the key given, ${exportKeyFingerprint(publicKey)} (the problems below say why)`);
} else console.log(`signature not checked (no --key: give the public key from GET /audit/export-key)${check.signature ? `; signed by key ${check.signature.key}` : ""}`);
for (const problem of check.problems) console.log(`PROBLEM: ${problem}`);
if (!check.ok) console.log("FAILED");
else if (check.rehashed === 0 && check.withheld > 0) console.log("OK as far as it goes: the lines are as exported (sha256), but no event could be re-hashed");
else console.log(`OK: the file is as exported${check.withheld ? ", except the rows without hashes, checked only by the sha256" : ""}${check.unfiltered ? "; unfiltered: every event from #1 to the head is here" : ""}`);
process.exit(check.ok ? 0 : 1);
