// verifyAuditTrail checks the chain heads the worker copied outside the database (the anchor
// file, env.auditAnchorFile), and says how many it checked: 0 is what an auditor must see
// before the worker first wrote the file.
import { readFile, rm, writeFile } from "node:fs/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { rewriteAndRechain } from "@rcmnet/db/testing";
import { AnchorFileMissingError, anchorAuditHead } from "../../jobs/anchorAuditHead.ts";
import { silentLogger } from "../../jobs/logger.ts";
import { createTestApi, type TestApi } from "../../testing/index.ts";

let api: TestApi;
let auditor: string;
let tech: string;
beforeAll(async () => {
  api = await createTestApi();
  auditor = await api.loginAs("AUDITOR");
  tech = await api.loginAs("TECHNICIAN");
});
afterAll(() => api?.close());

const RECENCY = `anchorRecency { checked anchorMinutes intervalDeclared graceMinutes newestAnchoredSeq newestAnchorWrittenAt lastWrittenAt
  unanchoredFromSeq unanchoredToSeq unanchoredSince stoppedCleanly writerSilent writtenInFuture intervalTooLong eventsOverdue overdue problem }`;
const VERIFY = `{ verifyAuditTrail { ok checked firstBrokenSeq problem full externalAnchorsChecked ${RECENCY} } }`;
const VERIFY_FULL = `{ verifyAuditTrail(full: true) { ok checked firstBrokenSeq problem full fullyVerifiedAt externalAnchorsChecked ${RECENCY} } }`;

describe("verifyAuditTrail and the anchor file", () => {
  it("checks the file's anchors: none before the worker wrote it, then each one; events removed after an anchor are found", async () => {
    const first = (await api.gqlOk(auditor, VERIFY)).verifyAuditTrail;
    // The sign-ins just written await the worker's first anchor: recent, so no failure.
    expect(first).toMatchObject({
      ok: true,
      full: true,
      externalAnchorsChecked: 0,
      anchorRecency: { checked: true, anchorMinutes: 10, graceMinutes: 25, newestAnchoredSeq: null, unanchoredFromSeq: "1", overdue: false },
    });

    await api.gqlOk(tech, `mutation { createCase(input: { accession: "XA-1" }) { id } }`);
    const anchor = await anchorAuditHead(api.prisma, api.env.auditAnchorFile, { log: silentLogger, everyMinutes: 10 });
    const anchored = (await api.gqlOk(auditor, VERIFY)).verifyAuditTrail;
    expect(anchored).toMatchObject({
      ok: true,
      full: false,
      externalAnchorsChecked: 1,
      anchorRecency: {
        anchorMinutes: 10,
        intervalDeclared: true,
        newestAnchoredSeq: String(anchor?.seq),
        newestAnchorWrittenAt: anchor?.writtenAt.toISOString(),
        lastWrittenAt: anchor?.writtenAt.toISOString(),
        unanchoredFromSeq: null,
        writerSilent: false,
        overdue: false,
        problem: null,
      },
    });

    // The owner deletes the events written since the last full walk, the anchored head among
    // them: what is left links up, and no signature anchored them.
    const walked = first.checked;
    await api.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL session_replication_role = replica`);
      await tx.$executeRawUnsafe(`DELETE FROM audit_event WHERE seq > ${walked}`);
    });
    const broken = (await api.gqlOk(auditor, VERIFY)).verifyAuditTrail;
    expect(broken).toMatchObject({ ok: false, firstBrokenSeq: String(walked + 1), checked: walked, externalAnchorsChecked: 1 });
    expect(broken.problem).toMatch(new RegExp(`^event #\\d+, anchored outside the database at \\S+Z, is missing: the trail ends at event #${walked}, `));
  });
});

describe("verifyAuditTrail and an anchor file that goes", () => {
  let other: TestApi;
  beforeAll(async () => {
    other = await createTestApi();
  });
  afterAll(() => other?.close());

  it("fails while the file is gone, which the worker does not create again; passes once it is back", async () => {
    const auditor = await other.loginAs("AUDITOR");
    const tech = await other.loginAs("TECHNICIAN");
    await other.gqlOk(tech, `mutation { createCase(input: { accession: "XB-1" }) { id } }`);
    await anchorAuditHead(other.prisma, other.env.auditAnchorFile, { log: silentLogger, everyMinutes: 10 });
    expect((await other.gqlOk(auditor, VERIFY)).verifyAuditTrail).toMatchObject({ ok: true, externalAnchorsChecked: 1 });
    const kept = await readFile(other.env.auditAnchorFile, "utf8");

    await rm(other.env.auditAnchorFile);
    await expect(anchorAuditHead(other.prisma, other.env.auditAnchorFile, { log: silentLogger, everyMinutes: 10 })).rejects.toThrow(AnchorFileMissingError);
    const gone = (await other.gqlOk(auditor, VERIFY)).verifyAuditTrail;
    expect(gone).toMatchObject({ ok: false, firstBrokenSeq: null, externalAnchorsChecked: 0 });
    expect(gone.problem).toMatch(/^the anchor file \S+ had 1 anchor \(the newest for event #\d+\) at \S+Z and now has none \(no file\): it was replaced, truncated or removed$/);

    await writeFile(other.env.auditAnchorFile, kept);
    expect((await other.gqlOk(auditor, VERIFY)).verifyAuditTrail).toMatchObject({ ok: true, problem: null, externalAnchorsChecked: 1 });
  });
});

/** Makes the events from `from` on look `minutes` older, re-chained as only the tables' owner can. */
async function ageEventsFrom(api: TestApi, from: number, minutes: number): Promise<void> {
  await rewriteAndRechain(api.db.prisma, `UPDATE "audit_event" SET "at" = "at" - interval '${minutes} minutes' WHERE seq >= ${from}`, from);
}

describe("verifyAuditTrail and anchoring that has stopped", () => {
  let stale: TestApi;
  beforeAll(async () => {
    stale = await createTestApi();
  });
  afterAll(() => stale?.close());

  it("fails once the first event after the newest anchor is older than two intervals and the margin, and says what to check", async () => {
    const auditor = await stale.loginAs("AUDITOR");
    const tech = await stale.loginAs("TECHNICIAN");
    const anchor = await anchorAuditHead(stale.prisma, stale.env.auditAnchorFile, { log: silentLogger, everyMinutes: 10 });
    await stale.gqlOk(tech, `mutation { createCase(input: { accession: "XC-1" }) { id } }`);
    // The events since look half an hour old (the owner re-chains them; no verifier has walked
    // them yet): what a worker whose writes failed since then leaves behind.
    const from = Number(anchor?.seq) + 1;
    await ageEventsFrom(stale, from, 30);
    const verdict = (await stale.gqlOk(auditor, VERIFY)).verifyAuditTrail;
    expect(verdict).toMatchObject({
      ok: false,
      firstBrokenSeq: null,
      externalAnchorsChecked: 1,
      anchorRecency: { checked: true, graceMinutes: 25, newestAnchoredSeq: String(anchor?.seq), unanchoredFromSeq: String(from), overdue: true },
    });
    expect(verdict.problem).toMatch(
      new RegExp(`^(event #${from} is|events #${from}-#\\d+ are) not anchored outside the database: the newest anchor in ${stale.env.auditAnchorFile} is for event #${anchor?.seq} .* more than 25 minutes ago; .* Anchoring has stopped: check that a worker anchoring`),
    );
    // The export says so too.
    const csv = await stale.fetch("/audit.csv", { token: auditor });
    expect(csv.headers.get("x-audit-chain")).toMatch(new RegExp(`^NOT VERIFIED: (event #${from} is|events #${from}-#\\d+ are) not anchored outside the database: `));
    await csv.text();

    // The worker anchors again: passes, the failure not kept.
    await anchorAuditHead(stale.prisma, stale.env.auditAnchorFile, { log: silentLogger, everyMinutes: 10 });
    expect((await stale.gqlOk(auditor, VERIFY)).verifyAuditTrail).toMatchObject({ ok: true, problem: null, anchorRecency: { overdue: false } });
  });

  it("does not report a writer silent whose last line, days old, is a clean stop's with no event after it", async () => {
    const own = await createTestApi();
    try {
      const auditor = await own.loginAs("AUDITOR");
      // The worker's clean stop, three days ago by this host's clock (Date alone faked).
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() - 3 * 24 * 60 * 60_000);
      try {
        await anchorAuditHead(own.prisma, own.env.auditAnchorFile, { log: silentLogger, everyMinutes: 10, stop: true });
      } finally {
        vi.useRealTimers();
      }
      expect((await own.gqlOk(auditor, VERIFY)).verifyAuditTrail).toMatchObject({
        ok: true,
        problem: null,
        anchorRecency: { stoppedCleanly: true, writerSilent: false, writtenInFuture: false, intervalTooLong: false, unanchoredFromSeq: null, overdue: false },
      });
    } finally {
      await own.close();
    }
  });
});

describe("verifyAuditTrail(full: true) within 5 minutes of a full walk", () => {
  let cached: TestApi;
  beforeAll(async () => {
    cached = await createTestApi();
  });
  afterAll(() => cached?.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Runs `write` as if the host's clock read `minutesAgo` minutes before now (Date only). */
  async function asIfAgo<T>(minutesAgo: number, write: () => Promise<T>): Promise<T> {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() - minutesAgo * 60_000);
    try {
      return await write();
    } finally {
      vi.useRealTimers();
    }
  }

  it("does not keep a full walk that failed only on the anchors' recency: once the workers anchor, the next full request walks again and passes", async () => {
    const own = await createTestApi();
    try {
      const auditor = await own.loginAs("AUDITOR");
      const tech = await own.loginAs("TECHNICIAN");
      const anchor = await anchorAuditHead(own.prisma, own.env.auditAnchorFile, { log: silentLogger, everyMinutes: 10 });
      await own.gqlOk(tech, `mutation { createCase(input: { accession: "XD-1" }) { id } }`);
      await ageEventsFrom(own, Number(anchor?.seq) + 1, 30);
      const late = (await own.gqlOk(auditor, VERIFY_FULL)).verifyAuditTrail;
      expect(late).toMatchObject({ ok: false, full: true, firstBrokenSeq: null, anchorRecency: { overdue: true } });
      await anchorAuditHead(own.prisma, own.env.auditAnchorFile, { log: silentLogger, everyMinutes: 10 });
      const walked = (await own.gqlOk(auditor, VERIFY_FULL)).verifyAuditTrail;
      expect(walked).toMatchObject({ ok: true, full: true, problem: null, anchorRecency: { overdue: false, unanchoredFromSeq: null } });
      expect(Date.parse(walked.fullyVerifiedAt)).toBeGreaterThan(Date.parse(late.fullyVerifiedAt));
    } finally {
      await own.close();
    }
  });

  it("keeps a failure of the anchors' recency only until the workers write again, and checks a kept pass's recency anew", async () => {
    const auditor = await cached.loginAs("AUDITOR");
    const file = cached.env.auditAnchorFile;
    // The workers' last line 30 minutes ago: a full walk fails on it (the chain holds).
    await asIfAgo(30, () => anchorAuditHead(cached.prisma, file, { log: silentLogger, everyMinutes: 10 }));
    const stale = (await cached.gqlOk(auditor, VERIFY_FULL)).verifyAuditTrail;
    expect(stale).toMatchObject({ ok: false, full: true, firstBrokenSeq: null, anchorRecency: { writerSilent: true, overdue: true } });
    // The workers write again (a heartbeat: the head has not moved): the next full request passes
    // at once, not 5 minutes later.
    expect(await anchorAuditHead(cached.prisma, file, { log: silentLogger, everyMinutes: 10 })).not.toBeNull();
    const passed = (await cached.gqlOk(auditor, VERIFY_FULL)).verifyAuditTrail;
    expect(passed).toMatchObject({ ok: true, full: true, problem: null, anchorRecency: { writerSilent: false, overdue: false } });
    expect(Date.parse(passed.fullyVerifiedAt)).toBeGreaterThan(Date.parse(stale.fullyVerifiedAt));

    // That pass is kept for 5 minutes, its recency checked at each answer: 3 minutes later the
    // same walk answers, but the newest line (written 23 minutes before it) is now 26 minutes old.
    await asIfAgo(23, () => anchorAuditHead(cached.prisma, file, { log: silentLogger, everyMinutes: 10, force: true }));
    const walked = (await cached.gqlOk(auditor, VERIFY_FULL)).verifyAuditTrail;
    expect(walked).toMatchObject({ ok: true, anchorRecency: { writerSilent: false } });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3 * 60_000);
    const again = (await cached.gqlOk(auditor, VERIFY_FULL)).verifyAuditTrail;
    expect(again).toMatchObject({ ok: false, full: true, firstBrokenSeq: null, fullyVerifiedAt: walked.fullyVerifiedAt, anchorRecency: { writerSilent: true } });
    expect(again.problem).toMatch(/^nothing has been written to \S+ since \S+Z \(its newest line, for event #\d+\), more than 25 minutes before this check /);
  });
});
