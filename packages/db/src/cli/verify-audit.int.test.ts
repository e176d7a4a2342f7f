// npm run verify-audit as an operator runs it after a restore: a child process (tsx, as the npm
// script), against a real PostgreSQL database. Its exit code is the restore record's verdict: 0
// the trail matches the anchor file, 1 a problem, 2 no verdict (bad input, refused before any
// database is opened; a database it cannot open or query). Whatever the outcome, it writes
// nothing to the database.
import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { appendFile, chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatAnchorLine } from "../auditAnchorFile.ts";
import { startEmbeddedPostgres } from "../embedded.ts";
import { repoRoot } from "../paths.ts";
import { createTestDatabase, emptyAuditTrail, freePort, rewriteAndRechain, type TestDatabase } from "../testing.ts";

const exec = promisify(execFile);
const tsx = join(repoRoot, "node_modules/.bin/tsx");
const script = resolve(import.meta.dirname, "verify-audit.ts");

let db: TestDatabase;
let dir: string;
let file: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "rcmnet-verify-audit-"));
});
afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let n = 0;
beforeEach(async () => {
  await emptyAuditTrail(db.prisma);
  file = join(dir, `anchors-${++n}.jsonl`);
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI on the test database (DATABASE_URL), with only the environment given here. */
async function verifyAudit(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const base: Record<string, string | undefined> = { ...process.env, DATABASE_URL: db.url };
  // What the test's own shell may carry must not choose the file, the interval or the base dir.
  for (const name of ["RCMNET_AUDIT_ANCHOR_FILE", "RCMNET_AUDIT_ANCHOR_MINUTES", "RCMNET_DATA_DIR", "INIT_CWD"]) delete base[name];
  try {
    const { stdout, stderr } = await exec(tsx, [script, ...args], { cwd: dir, env: { ...base, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Every table's row count and the trail's head hash: what a write of any kind would change. */
async function databaseState(): Promise<string> {
  const tables = await db.prisma.$queryRaw<{ name: string }[]>`
    SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`;
  const counts = await db.prisma.$queryRawUnsafe<{ name: string; rows: bigint }[]>(
    tables.map((t) => `SELECT '${t.name}' AS name, count(*) AS rows FROM "${t.name}"`).join(" UNION ALL "),
  );
  const [head] = await db.prisma.$queryRaw<{ hash: string | null }[]>`SELECT max(hash) FILTER (WHERE seq = (SELECT max(seq) FROM audit_event)) AS hash FROM audit_event`;
  return JSON.stringify({ counts: counts.map((c) => [c.name, Number(c.rows)]).sort(), head: head?.hash ?? null });
}

/** Runs the CLI and checks it left the database as it was. */
async function verifyAuditReadOnly(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const before = await databaseState();
  const run = await verifyAudit(args, env);
  expect(await databaseState()).toBe(before);
  return run;
}

async function addEvents(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await db.prisma.auditEvent.create({ data: { actorLogin: "tech", action: "case.create", entityType: "Case", entityId: `c-${Math.random()}` } });
  }
}

/** A line for the head, as a worker from before declared intervals wrote it (or, given, as one now does). */
async function anchorHead({ writtenAt = new Date(), everyMinutes, stop = false }: { writtenAt?: Date; everyMinutes?: number; stop?: boolean } = {}): Promise<void> {
  const head = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
  await appendFile(
    file,
    formatAnchorLine({ seq: head.seq, hash: head.hash, at: head.at, writtenAt, ...(everyMinutes ? { everyMinutes } : {}), ...(stop ? { stop } : {}) }),
  );
}

const USAGE = /\nusage: npm run verify-audit -w @rcmnet\/db -- --anchor-file <path> \[--restored-to <ISO time of the backup/;

describe("verify-audit: bad input is exit 2, before any database is opened", () => {
  it("refuses missing, unknown and extra arguments with the usage line", async () => {
    await addEvents(2);
    await anchorHead();
    const cases: [string[], RegExp][] = [
      [[], /^--anchor-file is required: the live anchor file \(the platform's RCMNET_AUDIT_ANCHOR_FILE, by default <dataDir>\/audit-anchors\.jsonl\)\n/],
      [["--anchor-file="], /^--anchor-file is required/],
      [["--restored-to", "2026-11-27T02:00:00Z"], /^--anchor-file is required/],
      [["--anchor-file"], /^Option '--anchor-file <value>' argument missing\n/],
      [["--anchor", file], /^Unknown option '--anchor'/],
      [["--anchor-file", file, "--verbose"], /^Unknown option '--verbose'/],
      [["--anchor-file", file, "extra"], /^Unexpected argument 'extra'/],
    ];
    for (const [args, message] of cases) {
      const run = await verifyAuditReadOnly(args);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: "" });
      expect(run.stderr, args.join(" ")).toMatch(message);
      expect(run.stderr, args.join(" ")).toMatch(USAGE);
    }
  }, 120_000);

  it("refuses an anchor file that is not there or cannot be read", async () => {
    await addEvents(1);
    const loop = join(dir, "loop.jsonl");
    await symlink(loop, loop);
    const folder = join(dir, "a-folder");
    await mkdir(folder);
    const cases: [string, RegExp][] = [
      [join(dir, "nowhere.jsonl"), new RegExp(`^--anchor-file: there is no file at ${join(dir, "nowhere.jsonl")}: give the path of the live anchor file\\n`)],
      [loop, new RegExp(`^--anchor-file ${loop} cannot be read \\(ELOOP\\)\\n`)],
      [folder, new RegExp(`^--anchor-file ${folder} is not a file\\n`)],
    ];
    for (const [path, message] of cases) {
      const run = await verifyAuditReadOnly(["--anchor-file", path]);
      expect({ path, code: run.code, stdout: run.stdout }).toEqual({ path, code: 2, stdout: "" });
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toMatch(USAGE);
    }
    // Relative to where the command was started (npm's INIT_CWD), as the operator typed it.
    const relative = await verifyAuditReadOnly(["--anchor-file", "nowhere.jsonl"], { INIT_CWD: folder });
    expect(relative.code).toBe(2);
    expect(relative.stderr).toMatch(new RegExp(`^--anchor-file: there is no file at ${join(folder, "nowhere.jsonl")}:`));
  }, 60_000);

  // Root reads a file whatever its mode: only an ordinary account can see this refusal.
  it.skipIf(process.getuid?.() === 0)("refuses an anchor file this account may not read", async () => {
    await writeFile(file, "");
    await chmod(file, 0o000);
    const run = await verifyAuditReadOnly(["--anchor-file", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^--anchor-file ${file} cannot be read \\(EACCES\\)\\n`));
  });

  it("refuses a restore point that is not a date and time with its zone, or is in the future", async () => {
    await addEvents(1);
    await anchorHead();
    const cases: [string, RegExp][] = [
      ["yesterday", /^--restored-to: not a date and time with its zone \(yesterday\), e\.g\. 2026-11-27T02:00:00Z\n/],
      // Date would read these as 2001-01-01, as March 3rd, and in this shell's zone.
      ["1", /^--restored-to: not a date and time with its zone \(1\)/],
      ["2026-02-31T02:00:00Z", /^--restored-to: not a date and time with its zone \(2026-02-31T02:00:00Z\)/],
      ["2026-11-27T02:00:00", /^--restored-to: not a date and time with its zone/],
      ["2026-11-27 02:00Z", /^--restored-to: not a date and time with its zone/],
      ["2026-11-27", /^--restored-to: not a date and time with its zone/],
      ["2026-11-27T24:00:00Z", /^--restored-to: not a date and time with its zone/],
      ["", /^--restored-to: not a date and time with its zone \(\)/],
      ["2999-01-01T00:00:00Z", /^--restored-to: 2999-01-01T00:00:00\.000Z is in the future; give the time the backup was taken\n/],
    ];
    for (const [time, message] of cases) {
      const run = await verifyAuditReadOnly(["--anchor-file", file, "--restored-to", time]);
      expect({ time, code: run.code, stdout: run.stdout }).toEqual({ time, code: 2, stdout: "" });
      expect(run.stderr).toMatch(message);
    }
  }, 120_000);

  it("refuses an anchoring interval that is not whole minutes from 0 to a day", async () => {
    await addEvents(1);
    await anchorHead();
    for (const minutes of ["ten", "-5", "2.5", "1441", ""]) {
      const run = await verifyAuditReadOnly(["--anchor-file", file], { RCMNET_AUDIT_ANCHOR_MINUTES: minutes });
      expect({ minutes, code: run.code }).toEqual({ minutes, code: 2 });
      expect(run.stderr).toMatch(new RegExp(`^RCMNET_AUDIT_ANCHOR_MINUTES: not a whole number of minutes from 0 to 1440 \\(${minutes.replace(".", "\\.")}\\)\\n`));
    }
  }, 60_000);

  it("without DATABASE_URL, refuses a data dir that holds no embedded database, and creates none", async () => {
    await writeFile(file, "");
    const empty = join(dir, `data-${n}`);
    await mkdir(empty);
    const run = await verifyAudit(["--anchor-file", file], { DATABASE_URL: undefined, RCMNET_DATA_DIR: empty });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^no embedded database at ${join(empty, "pglite")}: set RCMNET_DATA_DIR to the restored data dir, or DATABASE_URL\\n`));
    expect(await readdir(empty)).toEqual([]);
  });
});

describe("verify-audit: the verdict", () => {
  it("exits 0 on a trail that matches its anchor file", async () => {
    await addEvents(3);
    await anchorHead();
    await addEvents(2);
    await anchorHead();
    const run = await verifyAuditReadOnly(["--anchor-file", file]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout.split("\n")).toEqual(
      [
        `Anchor file ${file}; the trail's head is event #5.`,
        "2 anchor line(s) at or below the head checked against their events; the trail re-hashed: 5 event(s).",
        expect.stringMatching(/^The file's newest line was written \S+Z: within the 25 minutes allowed now \(anchors every 10 minutes, RCMNET_AUDIT_ANCHOR_MINUTES\)\.$/),
        "Every event up to the head is anchored (the newest anchor checked is for event #5).",
        "OK: the restored trail matches the anchor file.",
        "",
      ],
    );
  });

  it("exits 1 on a trail the owner rewrote and re-chained, naming the event", async () => {
    await addEvents(3);
    await anchorHead();
    await rewriteAndRechain(db.prisma, `UPDATE "audit_event" SET "entityId" = 'forged' WHERE seq = 2`, 2);
    const run = await verifyAuditReadOnly(["--anchor-file", file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\nPROBLEM: event #3, anchored outside the database at \S+Z, is missing or altered: its hash is not the one anchored, so the trail was rewritten \(and re-chained\) up to it\n/);
    expect(run.stdout).toMatch(/\nNOT OK: see the problems above; do not go live on this database before they are explained\.\n$/);
  });

  it("exits 1 when events after the newest anchor are older than two intervals and the margin, and with anchoring off though the file holds anchors", async () => {
    await addEvents(2);
    await anchorHead();
    await addEvents(2);
    // Events #3 and #4 look an hour old: the worker stopped anchoring before them.
    await rewriteAndRechain(db.prisma, `UPDATE "audit_event" SET "at" = "at" - interval '60 minutes' WHERE seq >= 3`, 3);
    const run = await verifyAuditReadOnly(["--anchor-file", file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\nEvents #3-#4, after the newest anchor, date from \S+Z: more than the 25 minutes allowed now \(anchors every 10 minutes, RCMNET_AUDIT_ANCHOR_MINUTES\)\.\n/);
    expect(run.stdout).toMatch(
      new RegExp(`\\nPROBLEM: events #3-#4 are not anchored outside the database: the newest anchor in ${file} is for event #2 \\(written \\S+Z\\), and event #3 dates from \\S+Z, more than 25 minutes ago; .* Anchoring has stopped: `),
    );
    // Anchoring every 2 hours, as the platform was told (the lines declare no interval): an hour
    // is within the 245 minutes.
    expect(await verifyAuditReadOnly(["--anchor-file", file], { RCMNET_AUDIT_ANCHOR_MINUTES: "120" })).toMatchObject({ code: 0 });
    // Told 0, but the file holds anchors: not checked, and that is a problem, not a pass.
    const off = await verifyAuditReadOnly(["--anchor-file", file], { RCMNET_AUDIT_ANCHOR_MINUTES: "0" });
    expect(off.code).toBe(1);
    expect(off.stdout).toContain("\nRCMNET_AUDIT_ANCHOR_MINUTES is 0 (anchoring off): whether anchoring had stopped is not checked, although it was on (see the problem below).\n");
    expect(off.stdout).toMatch(/\nPROBLEM: RCMNET_AUDIT_ANCHOR_MINUTES is 0 for this check \(anchoring off\), but \S+ holds anchors /);
  });

  it("judges by the interval the file's lines declare, whatever RCMNET_AUDIT_ANCHOR_MINUTES it is given; a last line that is no clean stop's is a writer that stopped", async () => {
    await addEvents(2);
    // The workers' last line, declaring 10 minutes, 30 minutes ago, not marked as a clean stop's:
    // they stopped without one (killed, the host lost), or failed to write since.
    await anchorHead({ writtenAt: new Date(Date.now() - 30 * 60_000), everyMinutes: 10 });
    for (const minutes of ["120", "0"]) {
      const run = await verifyAuditReadOnly(["--anchor-file", file], { RCMNET_AUDIT_ANCHOR_MINUTES: minutes });
      expect({ minutes, code: run.code }).toEqual({ minutes, code: 1 });
      expect(run.stdout).toMatch(/\nThe file's newest line was written \S+Z: more than the 25 minutes allowed now \(anchors every 10 minutes, as the file's newest line declares\)\.\n/);
      expect(run.stdout).toMatch(/\nPROBLEM: nothing has been written to \S+ since \S+Z \(its newest line, for event #2\), more than 25 minutes before this check /);
    }
  });
});

describe("verify-audit: a platform that stopped cleanly", () => {
  it("exits 0 days after a clean stop whose line anchors the head, as the CLI is run with the platform stopped; 1 once an event follows it", async () => {
    await addEvents(2);
    await anchorHead({ writtenAt: new Date(Date.now() - 3 * 24 * 60 * 60_000), everyMinutes: 10 });
    await addEvents(1);
    // The worker's clean stop, three days ago: the head once more, marked.
    await anchorHead({ writtenAt: new Date(Date.now() - 3 * 24 * 60 * 60_000 + 60_000), everyMinutes: 10, stop: true });
    const run = await verifyAuditReadOnly(["--anchor-file", file]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(
      /\nThe file's newest line was written \S+Z by a clean stop, and no event follows it: the platform stopped, anchoring did not fail \(anchors every 10 minutes\)\.\nEvery event up to the head is anchored \(the newest anchor checked is for event #3\)\.\nOK: /,
    );
    // An event after the clean stop: written while no writer anchored, judged as ever.
    await addEvents(1);
    const after = await verifyAuditReadOnly(["--anchor-file", file]);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/\nPROBLEM: nothing has been written to \S+ since \S+Z \(its newest line, for event #3\), more than 25 minutes before this check /);
  }, 60_000);

  it("exits 1 on a newest line written more than 5 minutes ahead of this host's clock, and on a declared interval longer than its own", async () => {
    await addEvents(1);
    await anchorHead({ writtenAt: new Date(Date.now() + 60 * 60_000), everyMinutes: 10 });
    const ahead = await verifyAuditReadOnly(["--anchor-file", file]);
    expect(ahead.code).toBe(1);
    expect(ahead.stdout).toMatch(/\nPROBLEM: the file's newest line \(for event #1\) was written \S+Z, in the future: clocks out of sync /);
    await anchorHead({ everyMinutes: 60 });
    const wide = await verifyAuditReadOnly(["--anchor-file", file], { RCMNET_AUDIT_ANCHOR_MINUTES: "10" });
    expect(wide.code).toBe(1);
    expect(wide.stdout).toMatch(/\nPROBLEM: the file's newest line declares anchors every 60 minutes, more than this check's RCMNET_AUDIT_ANCHOR_MINUTES \(10\): judged by 10 minutes instead; /);
    expect(await verifyAuditReadOnly(["--anchor-file", file], { RCMNET_AUDIT_ANCHOR_MINUTES: "60" })).toMatchObject({ code: 0 });
  }, 60_000);
});

describe("verify-audit: the embedded database", () => {
  it("refuses an empty RCMNET_DATA_DIR rather than look for a database in the current directory", async () => {
    await writeFile(file, "");
    const run = await verifyAudit(["--anchor-file", file], { DATABASE_URL: "", RCMNET_DATA_DIR: "" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/RCMNET_DATA_DIR: empty/);
  });

  it("takes an empty DATABASE_URL (the shell's way to unset it) as unset: the verdict is on the embedded database, never on libpq's default server", async () => {
    await writeFile(file, "");
    const data = join(dir, `data-${n}`);
    // The restored data dir: an embedded database, migrated (on a port of its own while it is made).
    const made = await startEmbeddedPostgres({ dataDir: join(data, "pglite"), port: await freePort() });
    await made.stop();
    // PGPORT=1: a client given "" for a URL would connect by the defaults, and fail there.
    const run = await verifyAudit(["--anchor-file", file], { DATABASE_URL: "", RCMNET_DATA_DIR: data, PGPORT: "1" });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(new RegExp(`^Anchor file ${file}; the trail's head is event #0\\.\\n`));
    expect(run.stdout).toMatch(/\nOK: the restored trail matches the anchor file\.\n$/);
  }, 120_000);
});

describe("verify-audit: no verdict when the database cannot be checked", () => {
  it("exits 2 with NO VERDICT, not 1 (a problem with the trail), on a database that does not answer", async () => {
    await writeFile(file, "");
    // A port nothing listens on (1, tcpmux: reserved, unused).
    const run = await verifyAudit(["--anchor-file", file], { DATABASE_URL: "postgresql://rcmnet:x@127.0.0.1:1/rcmnet?sslmode=disable" });
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: "" });
    expect(run.stderr).toMatch(/^NO VERDICT: the database at DATABASE_URL could not be opened or checked \(.*Can't reach database server at 127\.0\.0\.1:1.*\)\. Nothing was concluded about the trail: /);
    expect(run.stderr).not.toMatch(/PROBLEM|NOT OK|Unhandled|at async/);
  }, 60_000);

  it("exits 2 without opening the embedded database's files while something serves its port (the platform running)", async () => {
    await writeFile(file, "");
    const data = join(dir, `data-${n}`);
    await mkdir(join(data, "pglite"), { recursive: true });
    // The platform's embedded server, as far as the port goes (another one already there does as well).
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((done) => {
      server.once("error", () => done());
      server.listen(5433, "127.0.0.1", () => done());
    });
    try {
      const run = await verifyAudit(["--anchor-file", file], { DATABASE_URL: undefined, RCMNET_DATA_DIR: data });
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: "" });
      expect(run.stderr).toMatch(
        new RegExp(`^NO VERDICT: the embedded database in ${join(data, "pglite")} could not be opened or checked \\(something already answers on 127\\.0\\.0\\.1:5433, the embedded database's port: the platform is running; stop it first\\)\\. `),
      );
      expect(await readdir(join(data, "pglite"))).toEqual([]);
    } finally {
      await new Promise((done) => server.close(done));
    }
  }, 60_000);
});
