// Audit exports signed by the platform's Ed25519 key (21 CFR 11.10(e): an export must not be
// rewritable without it showing): the key published to auditors and recorded in the trail, a
// copy edited and resealed with a recomputed sha256 failing by it, and no export at all while the
// key file cannot be used. The tests run in order: the first one finds no key made yet.
import { execFile } from "node:child_process";
import { createHash, createPublicKey } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../log.ts";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { databaseFingerprint } from "../../testing/fixtures.ts";
import { checkAuditCsv, exportKeyFingerprint } from "./auditCsvFormat.ts";
import { EXPORT_KEY_REGISTERED } from "./exportSigningKey.ts";

let api: TestApi;
let auditor: string;
const logged: string[] = [];
let scratch: string;
beforeAll(async () => {
  api = await createTestApi({ log: createLogger("error", (line) => logged.push(line)) });
  auditor = await api.loginAs("AUDITOR");
  await api.gqlOk(await api.loginAs("TECHNICIAN"), `mutation { createCase(input: { accession: "SIG-1" }) { id } }`);
  scratch = await mkdtemp(join(tmpdir(), "rcmnet-signed-export-"));
});
afterAll(async () => {
  await api?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const keyFile = () => join(api.env.dataDir, "keys", "audit-export-ed25519.pem");
const count = (action: string) => api.prisma.auditEvent.count({ where: { action } });

interface PublishedKey {
  algorithm: string;
  fingerprint: string;
  publicKey: string;
  recordedSeq: string;
}

/** A saved copy edited as anyone can: a row's text changed, the closing line's sha256 recomputed, the signature kept. */
function resealed(csv: string, edit: (body: string) => string): string {
  const at = csv.lastIndexOf("\n# rows=") + 1;
  const body = edit(csv.slice(0, at));
  return body + csv.slice(at).replace(/sha256=[0-9a-f]{64}/, `sha256=${createHash("sha256").update(body, "utf8").digest("hex")}`);
}

describe("signed audit exports", () => {
  it("refuses to export (503, nothing sent or recorded) while the key file is not a key, and leaves it for an operator", async () => {
    await mkdir(dirname(keyFile()), { recursive: true, mode: 0o700 });
    await writeFile(keyFile(), "not a key\n", { mode: 0o600 });
    const before = await databaseFingerprint(api.prisma);
    const res = await api.fetch(`/audit.csv`, { token: auditor });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]).toMatchObject({ message: expect.stringMatching(/^Audit exports cannot be signed: the platform's signing key cannot be used/), extensions: { code: "UNAVAILABLE" } });
    // The reader is not told the server's paths; the operator's log is.
    expect(body.errors[0]!.message).not.toContain(keyFile());
    expect(logged.some((line) => line.includes(`audit export signing key ${keyFile()}: is not an Ed25519 private key`))).toBe(true);
    expect((await api.fetch(`/audit/export-key`, { token: auditor })).status).toBe(503);
    // No audit.export event, nor the key's: nothing recorded at all.
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // Never replaced by a new key: a new one would sign as the platform with nothing said.
    expect(await readFile(keyFile(), "utf8")).toBe("not a key\n");
    await rm(keyFile());
  });

  it("publishes the public key to AUDITOR and ADMIN only, made on first use and recorded in the trail once, by the system", async () => {
    for (const role of ["HEMATOLOGIST", "TECHNICIAN", "DATA_SCIENTIST"] as const) {
      const refused = await api.fetch(`/audit/export-key`, { token: await api.loginAs(role) });
      expect(refused.status, role).toBe(403);
      expect(((await refused.json()) as any).errors[0].extensions.code).toBe("FORBIDDEN");
    }
    expect((await api.fetch(`/audit/export-key`)).status).toBe(401);
    // A refusal makes no key and records nothing.
    await expect(stat(keyFile())).rejects.toThrow(/ENOENT/);
    expect(await count(EXPORT_KEY_REGISTERED)).toBe(0);

    const res = await api.fetch(`/audit/export-key`, { token: auditor });
    expect(res.status).toBe(200);
    const published = (await res.json()) as PublishedKey;
    expect(published.algorithm).toBe("ed25519");
    expect(published.fingerprint).toBe(exportKeyFingerprint(createPublicKey(published.publicKey)));
    if (process.platform !== "win32") expect((await stat(keyFile())).mode & 0o777).toBe(0o600);
    const byAdmin = (await (await api.fetch(`/audit/export-key`, { token: await api.loginAs("ADMIN") })).json()) as PublishedKey;
    expect(byAdmin).toEqual(published);
    const events = await api.prisma.auditEvent.findMany({ where: { action: EXPORT_KEY_REGISTERED } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      seq: BigInt(published.recordedSeq),
      actorId: null,
      actorLogin: "system",
      entityType: "AuditExportKey",
      entityId: published.fingerprint,
      after: { algorithm: "ed25519", fingerprint: published.fingerprint, publicKey: published.publicKey },
    });
  });

  it("signs every export: it verifies by the published key, and a copy edited and resealed with a recomputed sha256 does not", async () => {
    const published = (await (await api.fetch(`/audit/export-key`, { token: auditor })).json()) as PublishedKey;
    const publicKey = createPublicKey(published.publicKey);
    const csv = await (await api.fetch(`/audit.csv`, { token: auditor })).text();
    expect(csv).toMatch(new RegExp(`; redacted none; sig=ed25519:[A-Za-z0-9+/]{86}==; key=${published.fingerprint}\\r\\n$`));
    expect(checkAuditCsv(csv, { publicKey })).toMatchObject({ ok: true, unfiltered: true, signature: { key: published.fingerprint, verified: true }, problems: [] });
    // The unfiltered export covers the key's own event: the trail ties the key to the rows.
    expect(csv).toContain(`\r\n${published.recordedSeq},`);
    const edited = resealed(csv, (body) => body.replace("SIG-1", "SIG-9"));
    expect(checkAuditCsv(edited, { publicKey }).problems).toEqual([expect.stringMatching(/^the closing line's signature does not verify by the key given/), expect.stringMatching(/^event #\d+: seq, before or after differs from hashedText$/)]);

    // A redacted export has no hashes: resealed, it passes every check but the signature.
    const admin = await (await api.fetch(`/audit.csv`, { token: await api.loginAs("ADMIN") })).text();
    expect(checkAuditCsv(admin, { publicKey })).toMatchObject({ ok: true, signature: { verified: true } });
    const forged = resealed(admin, (body) => body.replace("SIG-1", "SIG-9"));
    expect(checkAuditCsv(forged)).toMatchObject({ ok: true, signature: { key: published.fingerprint, verified: null } });
    expect(checkAuditCsv(forged, { publicKey })).toMatchObject({ ok: false, signature: { verified: false }, problems: [expect.stringMatching(/signature does not verify/)] });
    // Still one key, recorded once, however many exports.
    expect(await count(EXPORT_KEY_REGISTERED)).toBe(1);
  });

  it("is checked by scripts/verifyAuditCsv.ts --key: OK by the key, exit 1 for a resealed copy, not checked without it", async () => {
    const published = (await (await api.fetch(`/audit/export-key`, { token: auditor })).json()) as PublishedKey;
    const csv = await (await api.fetch(`/audit.csv?action=case.create`, { token: auditor })).text();
    const files = {
      key: join(scratch, "export-key.pem"),
      csv: join(scratch, "audit-trail.csv"),
      forged: join(scratch, "forged.csv"),
    };
    await writeFile(files.key, published.publicKey);
    await writeFile(files.csv, csv);
    await writeFile(files.forged, resealed(csv, (body) => body.replace("SIG-1", "SIG-9")));
    const script = resolve(import.meta.dirname, "../../../../../scripts/verifyAuditCsv.ts");
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ["--import", "tsx", script, ...args], { encoding: "utf8" }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout + err.stderr }),
      );
    const ok = await run("--key", files.key, files.csv);
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringContaining(`signature OK by key ${published.fingerprint}\n`) });
    expect(ok.stdout).toMatch(/\nOK: the file is as exported\n$/);
    const unchecked = await run(files.csv);
    expect(unchecked).toMatchObject({ code: 0, stdout: expect.stringContaining(`signature not checked (no --key: give the public key from GET /audit/export-key); signed by key ${published.fingerprint}\n`) });
    const forged = await run("--key", files.key, files.forged);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toContain("signature NOT OK by the key given");
    expect(forged.stdout).toContain("PROBLEM: the closing line's signature does not verify by the key given");
    // Not a key: a usage error, nothing checked.
    expect(await run("--key", files.csv, files.csv)).toMatchObject({ code: 2, stdout: expect.stringMatching(/^cannot read the key /) });
  });
});
