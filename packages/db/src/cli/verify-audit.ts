// npm run verify-audit -w @rcmnet/db -- --anchor-file PATH [--restored-to TIME]
// Checks the audit trail (a full walk) against an anchor file, with the platform stopped: after a
// restore, the old file against the restored database (docs/operations.md, Restore). Anchors past
// the restored head are listed: events written after the backup, which the restore lost; with
// --restored-to (the backup's time) only those anchored events older than it are a problem.
// Anchoring must have been alive at the restore point (now without it): the file's newest line by
// then, and the first event after the newest anchor, younger than two intervals and 5 minutes, the
// interval being the one the file's lines declare (else RCMNET_AUDIT_ANCHOR_MINUTES, 10; 0: not
// checked, a problem where anchoring was on; a declared interval longer than a setting above 0 is a
// problem) (@rcmnet/db audit.ts, checkAnchorFile). A newest line written by a clean stop, with no
// event after it, is a stopped platform, not a silent writer, however long ago it was written.
// Exits 0 when the trail matches the file, 1 on a problem, 2 when it could not check: a usage
// error, or an anchor file that is not there or cannot be read (refused before any database is
// opened), or a database it could not open or query ("NO VERDICT: …"). Tested in
// verify-audit.int.test.ts.
// The database: DATABASE_URL, else (unset or empty) the embedded one in <RCMNET_DATA_DIR>/pglite
// (migrated forward as npm start would, and on its port: the platform must be stopped). It writes
// no row and no audit event; migrating the embedded database forward is its only write.
import { existsSync } from "node:fs";
import { open } from "node:fs/promises";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type AnchorRecency, checkAnchorFile, DEFAULT_ANCHOR_MINUTES } from "../audit.ts";
import { MAX_ANCHOR_MINUTES } from "../auditAnchorFile.ts";
import { createPrismaClient } from "../client.ts";
import { EMBEDDED_PORT, startEmbeddedPostgres } from "../embedded.ts";
import { defaultDataDir } from "../paths.ts";

const usage = "usage: npm run verify-audit -w @rcmnet/db -- --anchor-file <path> [--restored-to <ISO time of the backup, e.g. 2026-11-27T02:00:00Z>]";

function refuse(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

// A time with its date, hour, minutes and zone: a restore point must not be read in whatever zone
// this shell has, and Date alone takes "1" for 2001 and rolls 2026-02-31 over into March.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

function parseInstant(text: string): Date | null {
  const m = INSTANT.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? null : at;
}

let values: { "anchor-file"?: string | undefined; "restored-to"?: string | undefined };
try {
  ({ values } = parseArgs({ options: { "anchor-file": { type: "string" }, "restored-to": { type: "string" } } }));
} catch (err) {
  refuse((err as Error).message);
}
// Named every time, never a default: the restore record must say which file was checked, and the
// default one in a restored data dir is the copy the restore guide says not to trust.
if (!values["anchor-file"]) refuse("--anchor-file is required: the live anchor file (the platform's RCMNET_AUDIT_ANCHOR_FILE, by default <dataDir>/audit-anchors.jsonl)");
const restoredTo = values["restored-to"] === undefined ? null : parseInstant(values["restored-to"]);
if (values["restored-to"] !== undefined) {
  if (!restoredTo) refuse(`--restored-to: not a date and time with its zone (${values["restored-to"]}), e.g. 2026-11-27T02:00:00Z`);
  if (restoredTo.getTime() > Date.now()) refuse(`--restored-to: ${restoredTo.toISOString()} is in the future; give the time the backup was taken`);
}
const minutesText = process.env.RCMNET_AUDIT_ANCHOR_MINUTES ?? String(DEFAULT_ANCHOR_MINUTES);
// As the platform reads it (apps/api/src/env.ts): whole minutes, 0 (anchoring off) to a day.
if (!/^\d{1,4}$/.test(minutesText.trim()) || Number(minutesText) > MAX_ANCHOR_MINUTES) {
  refuse(`RCMNET_AUDIT_ANCHOR_MINUTES: not a whole number of minutes from 0 to ${MAX_ANCHOR_MINUTES} (${minutesText})`);
}
const anchorMinutes = Number(minutesText);

// `npm run -w` runs in packages/db: relative paths are the caller's, from where npm was started.
const callerDir = process.env.INIT_CWD ?? process.cwd();
const path = resolve(callerDir, values["anchor-file"]);
// A mistyped path, a directory or a file this account cannot read is no verdict on the trail:
// said before any database is opened (the embedded one would be migrated forward).
try {
  const file = await open(path, "r");
  try {
    if (!(await file.stat()).isFile()) refuse(`--anchor-file ${path} is not a file`);
  } finally {
    await file.close();
  }
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") refuse(`--anchor-file: there is no file at ${path}: give the path of the live anchor file`);
  refuse(`--anchor-file ${path} cannot be read (${code ?? String(err)})`);
}

// `DATABASE_URL=` (empty: the usual shell way to unset it) is unset, here as everywhere below: as
// a URL, "" would have node-postgres connect by its defaults (PGHOST, localhost:5432), and judge a
// database that was never restored.
const databaseUrl = process.env.DATABASE_URL || undefined;
// Nor may an empty RCMNET_DATA_DIR be the current directory, as it is refused by the platform.
if (process.env.RCMNET_DATA_DIR?.trim() === "") refuse(`RCMNET_DATA_DIR: empty: unset it for the default, ${defaultDataDir}, or give the restored data dir`);
const dataDir = resolve(callerDir, process.env.RCMNET_DATA_DIR ?? defaultDataDir);
// A wrong data dir must not quietly create (and check) a new, empty embedded database.
if (!databaseUrl && !existsSync(join(dataDir, "pglite"))) {
  refuse(`no embedded database at ${join(dataDir, "pglite")}: set RCMNET_DATA_DIR to the restored data dir, or DATABASE_URL`);
}

function describeRecency(r: AnchorRecency, atRestorePoint: boolean): string[] {
  if (!r.checked) {
    return [`RCMNET_AUDIT_ANCHOR_MINUTES is 0 (anchoring off): whether anchoring had stopped is not checked${r.problem ? ", although it was on (see the problem below)" : ""}.`];
  }
  const allowed = (late: boolean) =>
    `${late ? "more than" : "within"} the ${r.graceMinutes} minutes allowed ${atRestorePoint ? "at the restore point" : "now"} ` +
    `(anchors every ${r.anchorMinutes} minutes, ${r.intervalDeclared ? "as the file's newest line declares" : "RCMNET_AUDIT_ANCHOR_MINUTES"})`;
  const lines: string[] = [];
  if (r.lastWrittenAt && r.stoppedCleanly) {
    lines.push(
      `The file's newest line${atRestorePoint ? " by the restore point" : ""} was written ${r.lastWrittenAt.toISOString()} by a clean stop, and no event follows it: the platform stopped, anchoring did not fail (anchors every ${r.anchorMinutes} minutes).`,
    );
  } else if (r.lastWrittenAt) {
    lines.push(`The file's newest line${atRestorePoint ? " by the restore point" : ""} was written ${r.lastWrittenAt.toISOString()}: ${allowed(r.writerSilent)}.`);
  }
  if (r.unanchoredFromSeq === null) {
    lines.push(`Every event up to the head is anchored (the newest anchor checked is for event #${r.newestAnchoredSeq}).`);
  } else {
    const events = r.unanchoredFromSeq === r.unanchoredToSeq ? `Event #${r.unanchoredFromSeq}` : `Events #${r.unanchoredFromSeq}-#${r.unanchoredToSeq}`;
    lines.push(`${events}, after the newest anchor, date from ${r.unanchoredSince?.toISOString()}: ${allowed(r.eventsOverdue)}.`);
  }
  return lines;
}

/** Whether something accepts connections at host:port (within a second). */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolveAnswer(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolveAnswer(false);
    });
    socket.once("error", () => resolveAnswer(false));
  });
}

// Whatever fails from here on (the database unreachable, the embedded one in use by a running
// platform, a migration or a query failing) is no verdict on the trail: exit 2, never 1, which
// the restore record reads as a problem with the trail.
let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | null = null;
let prisma: ReturnType<typeof createPrismaClient> | null = null;
try {
  // A running platform serves the embedded database on its port: its files are not opened beside
  // it (a second server on them is no check, and may damage them).
  if (!databaseUrl && (await answers("127.0.0.1", EMBEDDED_PORT))) {
    throw new Error(`something already answers on 127.0.0.1:${EMBEDDED_PORT}, the embedded database's port: the platform is running; stop it first`);
  }
  embedded = databaseUrl ? null : await startEmbeddedPostgres({ dataDir: join(dataDir, "pglite") });
  prisma = createPrismaClient(databaseUrl ?? embedded?.url ?? "", { max: 2 });
  const check = await checkAnchorFile(prisma, path, { restoredTo, anchorMinutes });
  console.log(`Anchor file ${path}; the trail's head is event #${check.head}.`);
  console.log(`${check.checked} anchor line(s) at or below the head checked against their events; the trail re-hashed: ${check.chain.checked} event(s).`);
  for (const line of describeRecency(check.recency, restoredTo !== null)) console.log(line);
  if (check.pastHead.length) {
    console.log(`${check.pastHead.length} anchored head(s) past the head, events the restored database does not hold (written after the backup, if the restore point is before them):`);
    for (const a of check.pastHead) console.log(`  line ${a.line}: event #${a.seq} of ${a.at.toISOString()}, anchored ${a.writtenAt.toISOString()}`);
  }
  for (const problem of check.problems) console.log(`PROBLEM: ${problem}`);
  console.log(check.ok ? "OK: the restored trail matches the anchor file." : "NOT OK: see the problems above; do not go live on this database before they are explained.");
  process.exitCode = check.ok ? 0 : 1;
} catch (err) {
  const database = databaseUrl ? "the database at DATABASE_URL" : `the embedded database in ${join(dataDir, "pglite")}`;
  // Prisma's message opens with where it was called and ends with the cause: the last line.
  const why = err instanceof Error ? err.message.trim().split("\n").at(-1)?.trim() || err.name : String(err);
  console.error(
    `NO VERDICT: ${database} could not be opened or checked (${why}). Nothing was concluded about the trail: check that the database is ` +
      "reachable and DATABASE_URL right, and for the embedded one that the platform is stopped, then run this again.",
  );
  process.exitCode = 2;
} finally {
  await prisma?.$disconnect().catch(() => {});
  await embedded?.stop().catch(() => {});
}
