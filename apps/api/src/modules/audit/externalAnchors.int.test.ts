// verifyAuditTrail checks the chain heads the worker copied outside the database (the anchor
// file, env.auditAnchorFile), and says how many it checked: 0 is what an auditor must see
// before the worker first wrote the file.
import { readFile, rm, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

const VERIFY = `{ verifyAuditTrail { ok checked firstBrokenSeq problem full externalAnchorsChecked } }`;

describe("verifyAuditTrail and the anchor file", () => {
  it("checks the file's anchors: none before the worker wrote it, then each one; events removed after an anchor are found", async () => {
    const first = (await api.gqlOk(auditor, VERIFY)).verifyAuditTrail;
    expect(first).toMatchObject({ ok: true, full: true, externalAnchorsChecked: 0 });

    await api.gqlOk(tech, `mutation { createCase(input: { accession: "XA-1" }) { id } }`);
    await anchorAuditHead(api.prisma, api.env.auditAnchorFile, { log: silentLogger });
    const anchored = (await api.gqlOk(auditor, VERIFY)).verifyAuditTrail;
    expect(anchored).toMatchObject({ ok: true, full: false, externalAnchorsChecked: 1 });

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
    await anchorAuditHead(other.prisma, other.env.auditAnchorFile, { log: silentLogger });
    expect((await other.gqlOk(auditor, VERIFY)).verifyAuditTrail).toMatchObject({ ok: true, externalAnchorsChecked: 1 });
    const kept = await readFile(other.env.auditAnchorFile, "utf8");

    await rm(other.env.auditAnchorFile);
    await expect(anchorAuditHead(other.prisma, other.env.auditAnchorFile, { log: silentLogger })).rejects.toThrow(AnchorFileMissingError);
    const gone = (await other.gqlOk(auditor, VERIFY)).verifyAuditTrail;
    expect(gone).toMatchObject({ ok: false, firstBrokenSeq: null, externalAnchorsChecked: 0 });
    expect(gone.problem).toMatch(/^the anchor file \S+ had 1 anchor \(the newest for event #\d+\) at \S+Z and now has none \(no file\): it was replaced, truncated or removed$/);

    await writeFile(other.env.auditAnchorFile, kept);
    expect((await other.gqlOk(auditor, VERIFY)).verifyAuditTrail).toMatchObject({ ok: true, problem: null, externalAnchorsChecked: 1 });
  });
});
