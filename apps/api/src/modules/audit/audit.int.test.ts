import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import type { Request, Response } from "express";
import { signCaseForTest } from "@rcmnet/db/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { confirmAsSeen, seedReviewableCase } from "../../testing/fixtures.ts";
import type { Context } from "../../context.ts";
import { auditCsv, csvField } from "./auditCsv.ts";
import { checkAuditCsv, parseCsv } from "./auditCsvFormat.ts";
import { FULL_WALK_MIN_INTERVAL_MS, ThrottledChainVerifier } from "./chainVerifier.ts";

let api: TestApi;
let auditor: string;
let tech: string;
let techLogin: string;
beforeAll(async () => {
  api = await createTestApi();
  auditor = await api.loginAs("AUDITOR");
  const t = await api.createUser("TECHNICIAN");
  techLogin = t.user.login;
  tech = await api.login(t.user.login, t.password);
  for (let i = 0; i < 7; i++) {
    await api.gqlOk(tech, `mutation { createCase(input: { accession: "AU-${i}" }) { id } }`);
  }
});
afterAll(() => api?.close());

/** Moves the clock (Date only, cumulatively) past the interval between full walks: the next one requested is walked. */
let clockShift = 0;
function passFullWalkInterval(): void {
  vi.useRealTimers();
  const now = Date.now();
  clockShift += FULL_WALK_MIN_INTERVAL_MS + 1000;
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(now + clockShift);
}
afterEach(() => {
  vi.useRealTimers();
});

const TRAIL = `query($f: AuditFilter, $first: Int, $after: String) { auditTrail(filter: $f, first: $first, after: $after) {
  nodes { seq actorLogin action entityType entityId after reason at hash prevHash } pageInfo { endCursor hasNextPage } } }`;

describe("audit trail", () => {
  it("filters by action, user, entity and date range, newest first, with cursor pagination", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r: any = await api.gqlOk(auditor, TRAIL, { f: { action: "case.create", actorLogin: techLogin }, first: 3, after });
      seen.push(...r.auditTrail.nodes.map((n: { seq: string }) => n.seq));
      after = r.auditTrail.pageInfo.endCursor;
      if (!r.auditTrail.pageInfo.hasNextPage) break;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect(seen.map(Number)).toEqual([...seen.map(Number)].sort((a, b) => b - a));

    const one = await api.gqlOk(auditor, TRAIL, { f: { action: "case.create" }, first: 1 });
    const entityId = one.auditTrail.nodes[0].entityId;
    const byEntity = await api.gqlOk(auditor, TRAIL, { f: { entityType: "Case", entityId } });
    expect(byEntity.auditTrail.nodes).toHaveLength(1);
    expect(byEntity.auditTrail.nodes[0].after.accession).toBe("AU-6");

    const prefix = await api.gqlOk(auditor, TRAIL, { f: { action: "auth." } });
    expect(prefix.auditTrail.nodes.every((n: { action: string }) => n.action.startsWith("auth."))).toBe(true);

    const future = await api.gqlOk(auditor, TRAIL, { f: { from: new Date(Date.now() + 3600_000).toISOString() } });
    expect(future.auditTrail.nodes).toEqual([]);
    const past = await api.gqlOk(auditor, TRAIL, { f: { to: new Date(Date.now() + 3600_000).toISOString(), action: "case.create" } });
    expect(past.auditTrail.nodes.length).toBe(7);

    for (const [vars, what] of [[{ first: 0 }, "first 0"], [{ first: 100000 }, "first too large"], [{ after: "bm90LWEtc2Vx" }, "bad cursor"], [{ f: { from: "yesterday" } }, "bad date"]] as const) {
      const r = await api.gql(auditor, TRAIL, vars);
      expect(r.errors?.[0]?.extensions?.code, what).toBe("BAD_USER_INPUT");
    }
  });

  it("filters by case accession: the case's own events and those of its slides and cells, nothing else", async () => {
    const techId = (await api.prisma.user.findUniqueOrThrow({ where: { login: techLogin } })).id;
    const { kase, slideId, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2, accession: "AU-HISTORY" });
    const other = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1, accession: "AU-OTHER" });
    const hema = await api.loginAs("HEMATOLOGIST");
    const confirm = `mutation($cells: [ConfirmCellInput!]!) { confirmCells(cells: $cells) { id } }`;
    await api.gqlOk(hema, confirm, { cells: await confirmAsSeen(api.prisma, [cellIds[0]!]) });
    await api.gqlOk(hema, confirm, { cells: await confirmAsSeen(api.prisma, [other.cellIds[0]!]) });
    await api.gqlOk(tech, `mutation($i: UpdateCaseInput!) { updateCase(input: $i) { id } }`, { i: { id: kase.id, priority: "STAT", expectedUpdatedAt: (await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).updatedAt.toISOString(), reason: "clinician called" } });
    // A slide event written the way the upload path writes one.
    await api.prisma.auditEvent.create({ data: { actorLogin: "system", action: "slide.analysed", entityType: "Slide", entityId: slideId } });

    const r = await api.gqlOk(auditor, TRAIL, { f: { caseAccession: "AU-HISTORY" } });
    const got = r.auditTrail.nodes.map((n: { action: string; entityId: string }) => `${n.action} ${n.entityId}`).sort();
    expect(got).toEqual([`case.update ${kase.id}`, `cell.confirm ${cellIds[0]}`, `slide.analysed ${slideId}`].sort());
    // Combined with another filter; an unknown accession matches nothing (not everything).
    const cellsOnly = await api.gqlOk(auditor, TRAIL, { f: { caseAccession: "AU-HISTORY", entityType: "Cell" } });
    expect(cellsOnly.auditTrail.nodes).toHaveLength(1);
    // With an entity id too, an event must match both.
    expect((await api.gqlOk(auditor, TRAIL, { f: { caseAccession: "AU-HISTORY", entityId: kase.id } })).auditTrail.nodes).toHaveLength(1);
    expect((await api.gqlOk(auditor, TRAIL, { f: { caseAccession: "AU-HISTORY", entityId: other.kase.id } })).auditTrail.nodes).toEqual([]);
    expect((await api.gqlOk(auditor, TRAIL, { f: { caseAccession: "NO-SUCH-CASE" } })).auditTrail.nodes).toEqual([]);
  });

  it("filters by case accession: a failed signature attempt at the case too (its entity is the signer), in the trail and the CSV", async () => {
    const techId = (await api.prisma.user.findUniqueOrThrow({ where: { login: techLogin } })).id;
    const { kase } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1, accession: "AU-SIGN" });
    const hema = await api.loginAs("HEMATOLOGIST");
    const hemaLogin = (await api.prisma.user.findFirstOrThrow({ where: { role: "HEMATOLOGIST" } })).login;
    const wrong = await api.gql(hema, `mutation($input: SignOffCaseInput!) { signOffCase(input: $input) { id } }`, {
      input: { caseId: kase.id, login: hemaLogin, password: "not my password", meaning: "Reviewed and approved", seenCells: 1, seenDecisions: 0, seenCaseUpdatedAt: kase.updatedAt.toISOString() },
    });
    expect(wrong.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const failed = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "auth.signature_failed" }, orderBy: { seq: "desc" } });
    expect(failed).toMatchObject({ entityType: "User", after: { caseId: kase.id } });

    const r = await api.gqlOk(auditor, TRAIL, { f: { caseAccession: "AU-SIGN" } });
    expect(r.auditTrail.nodes.map((n: { seq: string }) => n.seq)).toContain(failed.seq.toString());
    const csv = await (await api.fetch(`/audit.csv?caseAccession=AU-SIGN`, { token: auditor })).text();
    expect(csv).toContain(`\r\n${failed.seq},`);
    // Not in another case's history, nor in this one's under an entity filter it does not match.
    expect((await api.gqlOk(auditor, TRAIL, { f: { caseAccession: "AU-HISTORY" } })).auditTrail.nodes.map((n: { seq: string }) => n.seq)).not.toContain(failed.seq.toString());
    expect((await api.gqlOk(auditor, TRAIL, { f: { caseAccession: "AU-SIGN", entityId: kase.id } })).auditTrail.nodes).toEqual([]);
  });

  it("refuses a cursor past the sequence's range as bad input, not a database error", async () => {
    const after = Buffer.from("9999999999999999999", "utf8").toString("base64url");
    const r = await api.gql(auditor, `query($a: String) { auditTrail(after: $a) { nodes { seq } } }`, { a: after });
    expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(r.errors?.[0]?.message).toBe("Invalid cursor");
  });

  it("is readable by AUDITOR and ADMIN only", async () => {
    for (const role of ["HEMATOLOGIST", "TECHNICIAN", "DATA_SCIENTIST"] as const) {
      const r = await api.gql(await api.loginAs(role), TRAIL, {});
      expect(r.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    }
    expect((await api.gql(await api.loginAs("ADMIN"), TRAIL, {})).errors).toBeUndefined();
  });

  it("exports CSV for auditors (filters apply; spreadsheet formulas neutralised)", async () => {
    const res = await api.fetch(`/audit.csv?action=case.create`, { token: auditor });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/csv/);
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines[0]).toBe("seq,at,actorLogin,actorId,action,entityType,entityId,reason,before,after,prevHash,hash,hashedText");
    expect(lines).toHaveLength(9); // header, 7 events, closing comment
    const history = (await (await api.fetch(`/audit.csv?caseAccession=AU-HISTORY`, { token: auditor })).text()).trim().split("\r\n");
    expect(history).toHaveLength(5); // header, the case's three events (test above), closing comment
    expect((await api.fetch(`/audit.csv`, { token: tech })).status).toBe(403);
    expect((await api.fetch(`/audit.csv`)).status).toBe(401);
    expect((await api.fetch(`/audit.csv?from=notadate`, { token: auditor })).status).toBe(400);
    // Nor loose or impossible dates, which would quietly export another window.
    for (const loose of ["5", "Nov%2026%202026", "2026-02-31", "2026-02-31T08:00:00Z"]) {
      expect((await api.fetch(`/audit.csv?from=${loose}`, { token: auditor })).status, loose).toBe(400);
    }
    // A time without a zone would be read in the server's zone: refused, not guessed.
    const zoneless = await api.fetch(`/audit.csv?from=2026-11-26T08:00:00`, { token: auditor });
    expect(zoneless.status).toBe(400);
    expect(await zoneless.text()).toMatch(/must name its time zone/);
    expect((await api.fetch(`/audit.csv?from=2026-11-26T08:00:00Z&to=2026-11-27`, { token: auditor })).status).toBe(200);
    // A mistyped filter is refused, not read as "no filter" (which would export the whole trail).
    const exportsBefore = await api.prisma.auditEvent.count({ where: { action: "audit.export" } });
    const typo = await api.fetch(`/audit.csv?actionn=case.create`, { token: auditor });
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as any).errors[0].message).toMatch(/Unknown filter "actionn"/);
    expect(await api.prisma.auditEvent.count({ where: { action: "audit.export" } })).toBe(exportsBefore);
    // The export says whether the chain verified and what was blanked, and is itself audited.
    expect(res.headers.get("x-audit-chain")).toMatch(/^intact; \d+ events verified( \(1-\d+ re-hashed at \S+Z, the rest now\))?$/);
    expect(res.headers.get("x-audit-redacted")).toBeNull();
    const byAdmin = await api.fetch(`/audit.csv?action=case.create`, { token: await api.loginAs("ADMIN") });
    expect(byAdmin.headers.get("x-audit-redacted")).toBe("patientRef, collectedAt, voidReason, originalName, contentSha256, hash, receivedSha256, prevHash, hashedText, reason of slide.void/case.amend/case.update/cell.reclassify/cell.confirm");
    await byAdmin.text();
    const exported = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "audit.export", after: { path: ["filter", "action"], equals: "case.create" } }, orderBy: { seq: "asc" } });
    expect(exported.after).toMatchObject({ filter: { action: "case.create" }, chainOk: true, chainFullyVerifiedThrough: expect.any(Number) });
    expect((exported.after as { chainFullyVerifiedAt: string }).chainFullyVerifiedAt).toMatch(/Z$/);
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvField('a,"b"')).toBe('"a,""b"""');
  });

  it("states in the file itself what it covers, and ends with a line only a complete export has", async () => {
    const auditorLogin = (await api.prisma.user.findFirstOrThrow({ where: { role: "AUDITOR" } })).login;
    const lines = (await (await api.fetch(`/audit.csv?action=case.create`, { token: auditor })).text()).split("\r\n");
    // Line 1 is the header any CSV reader expects; the evidence closes the file.
    expect(lines[0]).toMatch(/^seq,at,actorLogin,/);
    expect(lines.at(-2)).toMatch(new RegExp(`^# rows=7 complete; sha256=[0-9a-f]{64}; head=#\\d+ [0-9a-f]{64}; RCMNet audit export; exported \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z by ${auditorLogin}; filter action=case.create; chain intact; \\d+ events verified[^,"]*; redacted none; sig=ed25519:[A-Za-z0-9+/]{86}==; key=[0-9a-f]{64}$`));
    expect(lines.at(-1)).toBe("");
    const byAdmin = (await (await api.fetch(`/audit.csv?action=case.create`, { token: await api.loginAs("ADMIN") })).text()).split("\r\n");
    expect(byAdmin.at(-2)).toMatch(/^# rows=7 complete; sha256=[0-9a-f]{64}; head=#\d+ hash withheld; RCMNet audit export; /);
    expect(byAdmin.at(-2)).toMatch(/; redacted patientRef; collectedAt; voidReason; originalName; contentSha256; hash; receivedSha256; prevHash; hashedText; reason of slide\.void\/case\.amend\/case\.update\/cell\.reclassify\/cell\.confirm; sig=ed25519:[A-Za-z0-9+/]{86}==; key=[0-9a-f]{64}$/);
    // A filter value cannot break the comment line into rows or fields.
    const hostile = (await (await api.fetch(`/audit.csv?actorLogin=${encodeURIComponent('x\r\n1,"2",3')}`, { token: auditor })).text()).split("\r\n");
    expect(hostile).toHaveLength(3);
    expect(hostile[1]).toMatch(/^# rows=0 complete; .*; filter actorLogin=x%0D%0A1%2C%222%22%2C3; /);

    // The database failing once the export has begun: the file has its first lines, not the last.
    const failing = new Proxy(api.prisma, {
      get: (target, prop) => {
        if (prop === "auditEvent") return { findMany: () => Promise.reject(new Error("database gone")) };
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const chunks: string[] = [];
    const res = Object.assign(new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) }), { setHeader: () => undefined });
    const user = await api.prisma.user.findFirstOrThrow({ where: { role: "AUDITOR" } });
    const ctx = { prisma: failing, env: api.env, user: { id: user.id, login: user.login, displayName: user.displayName, role: user.role } } as unknown as Context;
    await expect(auditCsv(ctx, { query: { action: "case.create" } } as unknown as Request, res as unknown as Response)).rejects.toThrow("database gone");
    const cut = chunks.join("");
    expect(cut).toMatch(/^seq,at,/);
    expect(cut).not.toContain("# rows=");
  });

  it("can be checked offline: each row re-hashed from the file, the rows against the closing line's sha256; an edited copy fails", async () => {
    // Values whose JSON a parser would rewrite (1.10, 1e2, key order, escapes) and a reason a
    // spreadsheet would run, written as the platform's events are (the trigger hashes them).
    await api.prisma.$executeRawUnsafe(`INSERT INTO audit_event ("actorLogin", "action", "entityType", "entityId", "before", "after", "reason")
      VALUES ('system', 'test.exact', 'Test', 'exact-1', '{"zeta": 1.10, "alpha": [1e2, -0.50]}', '{"b": "é \\"q\\"\\n", "a": null, "aa": {"y": 2, "x": 1}}', '=SUM(A1), then "more"')`);
    await api.prisma.$executeRawUnsafe(`INSERT INTO audit_event ("actorLogin", "action", "entityType", "entityId", "after") VALUES ('system', 'test.exact', 'Test', 'exact-2', '-3')`);
    const csv = await (await api.fetch(`/audit.csv`, { token: auditor })).text();
    const end = csv.lastIndexOf("\n# rows=") + 1;
    const [header, ...rows] = parseCsv(csv.slice(0, end));
    const col = (row: string[], name: string) => row[header!.indexOf(name)]!;
    expect(rows.length).toBeGreaterThan(10);
    // Each row's hash recomputed from its columns alone, as docs/api.md says it is made: for
    // every row with before or after, which a parsed and re-serialised JSON would not reproduce.
    const unformula = (v: string) => (/^'[=+\-@\t\r]/.test(v) ? v.slice(1) : v);
    const text = (v: string) => (v === "" ? "null" : JSON.stringify(unformula(v)));
    let withJson = 0;
    for (const row of rows) {
      if (!col(row, "before") && !col(row, "after")) continue;
      withJson++;
      const json = (v: string) => (v === "" ? "null" : unformula(v));
      const at = `${col(row, "at").slice(0, 23)}000`;
      const hashed = `[${[col(row, "seq"), text(col(row, "prevHash")), text(col(row, "actorId")), text(col(row, "actorLogin")), text(col(row, "action")), text(col(row, "entityType")), text(col(row, "entityId")), json(col(row, "before")), json(col(row, "after")), text(col(row, "reason")), JSON.stringify(at)].join(", ")}]`;
      expect(createHash("sha256").update(hashed, "utf8").digest("hex"), `event #${col(row, "seq")}`).toBe(col(row, "hash"));
      expect(col(row, "hashedText")).toBe(hashed);
    }
    expect(withJson).toBeGreaterThan(8);
    const exact = rows.find((r) => col(r, "entityId") === "exact-1")!;
    expect(col(exact, "before")).toBe('{"zeta": 1.10, "alpha": [100, -0.50]}');
    expect(col(exact, "reason")).toBe(`'=SUM(A1), then "more"`);
    expect(col(rows.find((r) => col(r, "entityId") === "exact-2")!, "after")).toBe("'-3");
    // The closing line: a sha256 of the lines above it, and the trail's head.
    const closing = csv.slice(end);
    const head = await api.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    expect(closing).toMatch(new RegExp(`^# rows=${rows.length} complete; sha256=${createHash("sha256").update(csv.slice(0, end), "utf8").digest("hex")}; head=#${head.seq} ${head.hash}; RCMNet audit export; `));
    expect(checkAuditCsv(csv)).toMatchObject({ ok: true, rows: rows.length, rehashed: rows.length, withheld: 0, linked: rows.length - 1, head: { seq: head.seq.toString(), hash: head.hash }, problems: [] });

    // An edited row: the sha256 no longer matches, nor does the row's hash, or its hashedText the column.
    const start = csv.lastIndexOf("\r\n", csv.indexOf(",exact-1,")) + 2;
    const stop = csv.indexOf("\r\n", start) + 2;
    const line = csv.slice(start, stop);
    const editRow = (to: string) => csv.slice(0, start) + to + csv.slice(stop);
    const edited = checkAuditCsv(editRow(line.replaceAll("1.10", "1.20")));
    expect(edited.ok).toBe(false);
    expect(edited.problems).toEqual([expect.stringMatching(/do not match its sha256/), expect.stringMatching(/^event #\d+: its hash is not the sha256 of its hashedText$/)]);
    expect(checkAuditCsv(editRow(line.replace("1.10", "1.20"))).problems).toEqual([expect.stringMatching(/do not match its sha256/), expect.stringMatching(/^event #\d+: seq, before or after differs from hashedText$/)]);
    expect(checkAuditCsv(editRow(line.replace(",exact-1,", ",exact-9,"))).problems).toEqual([expect.stringMatching(/do not match its sha256/), expect.stringMatching(/^event #\d+: entityId differs from hashedText$/)]);
    // A row removed: the sha256, the count, and the event missing from an unfiltered export.
    const exactSeq = Number(col(exact, "seq"));
    expect(checkAuditCsv(editRow("")).problems).toEqual([
      expect.stringMatching(/do not match its sha256/),
      `the closing line says ${rows.length} rows; the file has ${rows.length - 1}`,
      `event #${exactSeq + 1}: event #${exactSeq} is missing from an unfiltered export`,
    ]);

    // Redacted for ADMIN: no hashes, nothing to re-hash, the sha256 still checks the lines.
    const admin = await (await api.fetch(`/audit.csv`, { token: await api.loginAs("ADMIN") })).text();
    const adminCheck = checkAuditCsv(admin);
    expect(adminCheck).toMatchObject({ ok: true, rehashed: 0, linked: 0, head: { hash: null } });
    expect(adminCheck.withheld).toBe(adminCheck.rows);
    expect(admin).not.toContain(head.hash);
    expect(admin).not.toContain('"zeta": 1.10');
  });

  it("stops at the head it states: an event written while it streams is left out, and the unfiltered copy still checks", async () => {
    // Another event committed after each page is read (the last one included), before the closing line.
    const during = () => api.prisma.$executeRawUnsafe(`INSERT INTO audit_event ("actorLogin", "action", "entityType", "entityId") VALUES ('system', 'test.during', 'Test', 'during')`);
    const events = new Proxy(api.prisma.auditEvent, {
      get: (target, prop) => {
        if (prop === "findMany")
          return async (args: Parameters<typeof target.findMany>[0]) => {
            const rows = await target.findMany(args);
            await during();
            return rows;
          };
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const prisma = new Proxy(api.prisma, {
      get: (target, prop) => {
        if (prop === "auditEvent") return events;
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const chunks: string[] = [];
    const res = Object.assign(new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) }), { setHeader: () => undefined });
    const user = await api.prisma.user.findFirstOrThrow({ where: { role: "AUDITOR" } });
    const ctx = { prisma, env: api.env, user: { id: user.id, login: user.login, displayName: user.displayName, role: user.role } } as unknown as Context;
    await auditCsv(ctx, { query: {} } as unknown as Request, res as unknown as Response);
    const csv = chunks.join("");
    const check = checkAuditCsv(csv);
    expect(check).toMatchObject({ ok: true, unfiltered: true, problems: [] });
    expect(csv).not.toContain(",during,");
    const [, ...rows] = parseCsv(csv.slice(0, csv.lastIndexOf("\n# rows=") + 1));
    expect(rows.at(-1)![0]).toBe(check.head!.seq);
    expect(await api.prisma.auditEvent.count({ where: { action: "test.during", seq: { gt: BigInt(check.head!.seq) } } })).toBeGreaterThan(0);
  });

  it("records no export for a client gone while the chain was verified, and still records one that was not", async () => {
    const exports = () => api.prisma.auditEvent.count({ where: { action: "audit.export" } });
    const before = await exports();
    // Verification held (a full walk of a large trail takes seconds) until the client has gone.
    let entered!: () => void;
    const inVerify = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const verify = ThrottledChainVerifier.prototype.verify;
    let verified: Promise<unknown> = Promise.resolve();
    const spy = vi.spyOn(ThrottledChainVerifier.prototype, "verify").mockImplementation(function (this: ThrottledChainVerifier, ...args) {
      const p = (async () => {
        entered();
        await gate;
        return verify.apply(this, args);
      })();
      verified = p;
      return p;
    });
    try {
      const client = new AbortController();
      const download = api.fetch(`/audit.csv?action=case.create`, { token: auditor, signal: client.signal }).then(
        () => "answered",
        (e: Error) => e.name,
      );
      await inVerify;
      client.abort();
      expect(await download).toBe("AbortError");
      // The API's socket closes a moment after the client's.
      await new Promise((resolve) => setTimeout(resolve, 200));
      release();
      await verified;
      // Long enough for the export's event to be written had it been (a few ms).
      for (let i = 0; i < 10; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await exports()).toBe(before);
      }
    } finally {
      release();
      spy.mockRestore();
    }
    // An export received is recorded, as before.
    expect((await api.fetch(`/audit.csv?action=case.create`, { token: auditor })).status).toBe(200);
    expect(await exports()).toBe(before + 1);
  });

  it("answers a full walk asked for again within 5 minutes with the earlier walk's verdict and time, without walking", async () => {
    const FULL = `{ verifyAuditTrail(full: true) { ok checked full fullyVerifiedThrough fullyVerifiedAt } }`;
    passFullWalkInterval();
    const first = (await api.gqlOk(auditor, FULL)).verifyAuditTrail;
    expect(first).toMatchObject({ ok: true, full: true });
    // An event written since: a walk would count it.
    await api.gqlOk(tech, `mutation { createCase(input: { accession: "AU-AGAIN" }) { id } }`);
    const again = (await api.gqlOk(auditor, FULL)).verifyAuditTrail;
    expect(again).toEqual(first);
    // Once the interval has passed, a full walk is made again and covers the new event.
    passFullWalkInterval();
    const later = (await api.gqlOk(auditor, FULL)).verifyAuditTrail;
    expect(later.full).toBe(true);
    expect(later.checked).toBeGreaterThan(first.checked);
    expect(Date.parse(later.fullyVerifiedAt)).toBeGreaterThan(Date.parse(first.fullyVerifiedAt));
  });

  it("detects tampering done behind the API's back (superuser SQL) and names the first broken link", async () => {
    const ok = await api.gqlOk(auditor, `{ verifyAuditTrail { ok checked firstBrokenSeq problem platformRoleCanRewrite } }`);
    expect(ok.verifyAuditTrail.ok).toBe(true);
    // The API under test runs as the granted application role, which cannot change the trail
    // (the tampering below needs the superuser): the verdict says so (null), beside an intact chain.
    expect(ok.verifyAuditTrail.platformRoleCanRewrite).toBeNull();
    expect(ok.verifyAuditTrail.checked).toBeGreaterThan(7);
    const victim = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "case.create" }, orderBy: { seq: "asc" } });
    // The append-only trigger refuses this to the application; a superuser can switch triggers off.
    await expect(api.prisma.$executeRawUnsafe(`UPDATE audit_event SET reason = 'x' WHERE seq = ${victim.seq}`)).rejects.toThrow();
    await api.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL session_replication_role = replica`);
      await tx.$executeRawUnsafe(`UPDATE audit_event SET after = '{"accession":"FORGED"}' WHERE seq = ${victim.seq}`);
    });
    // A quick check re-hashes only what is new since the last walk, and says so; the full walk
    // (on request at most every 5 minutes, on the first check and hourly) finds the edit.
    const quick = await api.gqlOk(auditor, `{ verifyAuditTrail { ok full fullyVerifiedThrough fullyVerifiedAt } }`);
    expect(quick.verifyAuditTrail).toMatchObject({ ok: true, full: false });
    expect(Number(quick.verifyAuditTrail.fullyVerifiedThrough)).toBeGreaterThanOrEqual(Number(victim.seq));
    expect(quick.verifyAuditTrail.fullyVerifiedAt).toMatch(/Z$/);
    // Asked for again at once, the last full walk (before the edit) is its answer.
    expect((await api.gqlOk(auditor, `{ verifyAuditTrail(full: true) { ok } }`)).verifyAuditTrail.ok).toBe(true);
    passFullWalkInterval();
    const broken = await api.gqlOk(auditor, `{ verifyAuditTrail(full: true) { ok full checked firstBrokenSeq problem } }`);
    expect(broken.verifyAuditTrail.full).toBe(true);
    expect(broken.verifyAuditTrail.ok).toBe(false);
    expect(broken.verifyAuditTrail.firstBrokenSeq).toBe(victim.seq.toString());
    expect(broken.verifyAuditTrail.problem).toBeTruthy();
  });
});

describe("patient references in the trail", () => {
  it("nulls patientRef inside before/after for ADMIN (GraphQL and CSV), and the hashes over it; AUDITOR still sees both", async () => {
    const c = await api.gqlOk(tech, `mutation { createCase(input: { accession: "AU-PR", patientRef: "MRN-AUDIT-55" }) { id } }`);
    const f = { entityType: "Case", entityId: c.createCase.id, action: "case.create" };
    const admin = await api.loginAs("ADMIN");
    const a = await api.gqlOk(admin, TRAIL, { f });
    expect(a.auditTrail.nodes[0].after).toMatchObject({ accession: "AU-PR", patientRef: null });
    expect(JSON.stringify(a)).not.toContain("MRN-AUDIT-55");
    // The event's hash covers the reference: shown, it would let candidates be tested offline.
    const stored = await api.prisma.auditEvent.findFirstOrThrow({ where: f });
    expect(a.auditTrail.nodes[0]).toMatchObject({ hash: null, prevHash: null });
    const csv = await (await api.fetch(`/audit.csv?entityId=${c.createCase.id}`, { token: admin })).text();
    expect(csv).toContain("AU-PR");
    expect(csv).not.toContain("MRN-AUDIT-55");
    expect(csv).not.toContain(stored.hash);
    expect(csv).not.toContain(stored.prevHash);
    const au = await api.gqlOk(auditor, TRAIL, { f });
    expect(au.auditTrail.nodes[0].after.patientRef).toBe("MRN-AUDIT-55");
    expect(au.auditTrail.nodes[0]).toMatchObject({ hash: stored.hash, prevHash: stored.prevHash });
    expect(await (await api.fetch(`/audit.csv?entityId=${c.createCase.id}`, { token: auditor })).text()).toContain("MRN-AUDIT-55");
  });

  it("withholds from ADMIN the free-text reasons of case edits, amendments and voids (they may name a patient) and says they are withheld, in GraphQL and CSV; AUDITOR still sees them", async () => {
    const c = await api.gqlOk(tech, `mutation { createCase(input: { accession: "AU-WHY", patientRef: "MRN-4410" }) { id updatedAt } }`);
    const id = c.createCase.id;
    const edited = await api.gqlOk(tech, `mutation($i: UpdateCaseInput!) { updateCase(input: $i) { updatedAt } }`, {
      i: { id, patientRef: "MRN-4411", expectedUpdatedAt: c.createCase.updatedAt, reason: "patientRef corrected from MRN-4410" },
    });
    expect(edited.updateCase.updatedAt).toBeTruthy();
    // Signed (as if), then amended by a hematologist with a reason naming the patient.
    await signCaseForTest(api.prisma, id);
    await api.gqlOk(await api.loginAs("HEMATOLOGIST"), `mutation($input: AmendCaseInput!) { amendCase(input: $input) { id } }`, { input: { caseId: id, reason: "smear belongs to MRN-4411", expectedReportVersion: 1 } });
    // A void's reason too, on another case's image.
    const techId = (await api.prisma.user.findUniqueOrThrow({ where: { login: techLogin } })).id;
    const { slideId } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1, accession: "AU-WHY-VOID" });
    const slide = await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } });
    await api.gqlOk(tech, `mutation($id: ID!, $reason: String!, $at: DateTime!) { voidSlide(slideId: $id, reason: $reason, expectedUpdatedAt: $at) { id } }`, {
      id: slideId, reason: "image of MRN-4412", at: slide.updatedAt.toISOString(),
    });
    const REASONS = `query($f: AuditFilter) { auditTrail(filter: $f, first: 10) { nodes { action reason reasonWithheld } } }`;
    const f = { entityType: "Case", entityId: id };
    const voidF = { entityType: "Slide", entityId: slideId, action: "slide.void" };
    type Node = { action: string; reason: string | null; reasonWithheld: boolean };
    const reasons = async (token: string, filter: object = f) => Object.fromEntries((await api.gqlOk(token, REASONS, { f: filter })).auditTrail.nodes.map((n: Node) => [n.action, [n.reason, n.reasonWithheld]]));
    const admin = await api.loginAs("ADMIN");
    // Withheld, and said to be: these actions require a reason, so a bare null would read as none given.
    expect(await reasons(admin)).toEqual({ "case.create": [null, false], "case.update": [null, true], "case.amend": [null, true] });
    expect(await reasons(admin, voidF)).toEqual({ "slide.void": [null, true] });
    expect(await reasons(auditor)).toEqual({ "case.create": [null, false], "case.update": ["patientRef corrected from MRN-4410", false], "case.amend": ["smear belongs to MRN-4411", false] });
    expect(await reasons(auditor, voidF)).toEqual({ "slide.void": ["image of MRN-4412", false] });
    const csv = await (await api.fetch(`/audit.csv?entityId=${id}`, { token: admin })).text();
    expect(csv).toMatch(/^# rows=3 complete; /m);
    expect(csv).toContain("AU-WHY");
    expect(csv).not.toMatch(/MRN-441[01]/);
    // The file says whose reasons its blank cells withhold, where an inspector reads it.
    expect(csv).toMatch(/^# rows=3 complete; .*; redacted .*; reason of slide\.void\/case\.amend\/case\.update\/cell\.reclassify\/cell\.confirm; sig=ed25519:\S+; key=[0-9a-f]{64}\r$/m);
    expect(csv).toMatch(new RegExp(`^\\d+,[^,]+,[^,]+,[^,]+,case\\.update,Case,${id},,`, "m"));
    const asAuditor = await (await api.fetch(`/audit.csv?entityId=${id}`, { token: auditor })).text();
    expect(asAuditor).toContain("patientRef corrected from MRN-4410");
    expect(asAuditor).toContain("smear belongs to MRN-4411");
    expect(asAuditor).toMatch(/^# rows=3 complete; .*; redacted none; sig=ed25519:\S+; key=[0-9a-f]{64}\r$/m);
    expect(asAuditor).not.toContain("reason of");
    // Reasons that are not about a patient stay readable to ADMIN (an account's, say).
    const created = (await api.gqlOk(admin, `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, {
      input: { login: "au-why-tech", displayName: "Night Tech", role: "TECHNICIAN", password: "set by the admin", reason: "night shift cover" },
    })).createUser;
    expect((await api.gqlOk(admin, REASONS, { f: { entityType: "User", entityId: created.id, action: "user.create" } })).auditTrail.nodes).toEqual([{ action: "user.create", reason: "night shift cover", reasonWithheld: false }]);
    // An event of these actions stored without a reason (none is written so today) has nothing withheld.
    const bare = await api.prisma.auditEvent.create({ data: { actorLogin: "system", action: "case.update", entityType: "Case", entityId: "au-why-no-reason" } });
    expect(await reasons(admin, { entityType: "Case", entityId: bare.entityId })).toEqual({ "case.update": [null, false] });
  });
});
