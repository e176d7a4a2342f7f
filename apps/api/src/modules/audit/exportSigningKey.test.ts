// The export signing key's file: made once, private, never made over one that is there, and a
// file that is not an Ed25519 private key refuses exports rather than being replaced.
import { generateKeyPairSync } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exportKeyFingerprint } from "./auditCsvFormat.ts";
import { createExportKeyFile, exportKeyLocation, exportKeyProblem, ExportSigningKeyError, readOrCreateExportKey } from "./exportSigningKey.ts";

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "rcmnet-export-key-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const defaultPath = () => join(dataDir, "keys", "audit-export-ed25519.pem");
const unix = process.platform !== "win32";

describe("readOrCreateExportKey", () => {
  it("makes an Ed25519 key in the data dir on first use (file 0600, folder 0700), and reads the same one after", async () => {
    const env = { dataDir };
    expect(exportKeyLocation(env)).toEqual({ path: defaultPath(), managed: false });
    const made = await readOrCreateExportKey(env);
    expect(made.privateKey.asymmetricKeyType).toBe("ed25519");
    expect(made.fingerprint).toBe(exportKeyFingerprint(made.publicKey));
    expect(made.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/);
    expect(await readFile(defaultPath(), "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    if (unix) {
      expect((await stat(defaultPath())).mode & 0o777).toBe(0o600);
      expect((await stat(join(dataDir, "keys"))).mode & 0o777).toBe(0o700);
    }
    expect((await readOrCreateExportKey(env)).fingerprint).toBe(made.fingerprint);
  });

  it("makes one key for processes starting at once: every one reads the key that got there first, and no temporary file is left", async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, () => readOrCreateExportKey({ dataDir })));
    expect(new Set(keys.map((k) => k.fingerprint)).size).toBe(1);
    expect(await readdir(join(dataDir, "keys"))).toEqual(["audit-export-ed25519.pem"]);
    // A process that found no key a moment ago and makes one now: the key already signing stays.
    const before = await readFile(defaultPath(), "utf8");
    await createExportKeyFile(defaultPath());
    expect(await readFile(defaultPath(), "utf8")).toBe(before);
    expect(await readdir(join(dataDir, "keys"))).toEqual(["audit-export-ed25519.pem"]);
  });

  it("refuses a file that is not an Ed25519 private key, and leaves it as it is (never makes a new key over it)", async () => {
    await mkdir(join(dataDir, "keys"), { recursive: true });
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const ed25519 = generateKeyPairSync("ed25519");
    const notKeys: [string, RegExp][] = [
      ["", /is not an Ed25519 private key in PKCS#8 PEM/],
      ["-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n", /is not an Ed25519 private key in PKCS#8 PEM/],
      [ed25519.publicKey.export({ type: "spki", format: "pem" }).toString(), /is not an Ed25519 private key in PKCS#8 PEM/],
      [rsa, /is a rsa key, not Ed25519/],
      ["x".repeat(20_000), /is not an Ed25519 private key \(20000 bytes\)/],
    ];
    for (const [content, why] of notKeys) {
      await writeFile(defaultPath(), content, { mode: 0o600 });
      const err = await readOrCreateExportKey({ dataDir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExportSigningKeyError);
      expect((err as Error).message).toMatch(why);
      expect((err as Error).message).toMatch(/exports are refused until it is restored/);
      expect(await readFile(defaultPath(), "utf8")).toBe(content);
    }
    await rm(defaultPath());
    await mkdir(defaultPath());
    await expect(readOrCreateExportKey({ dataDir })).rejects.toThrow(/is not a file/);
  });

  it.runIf(unix)("refuses a key others may read", async () => {
    await readOrCreateExportKey({ dataDir });
    await chmod(defaultPath(), 0o644);
    await expect(readOrCreateExportKey({ dataDir })).rejects.toThrow(/other users may read or change it \(mode 0644\): chmod 600 it/);
  });

  it("uses the key RCMNET_AUDIT_SIGNING_KEY_FILE names, and never makes one there: a missing file is refused", async () => {
    const managed = join(dataDir, "managed.pem");
    const env = { dataDir, auditExportKeyFile: managed };
    expect(exportKeyLocation(env)).toEqual({ path: managed, managed: true });
    await expect(readOrCreateExportKey(env)).rejects.toThrow(/managed\.pem: does not exist \(RCMNET_AUDIT_SIGNING_KEY_FILE names it\)/);
    expect(await readdir(dataDir)).toEqual([]);
    const key = generateKeyPairSync("ed25519");
    await writeFile(managed, key.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    expect((await readOrCreateExportKey(env)).fingerprint).toBe(exportKeyFingerprint(key.publicKey));
  });
});

describe("exportKeyProblem (checked as the API starts)", () => {
  it("says nothing of a usable key or of none yet where the API makes its own, and makes nothing", async () => {
    expect(await exportKeyProblem({ dataDir })).toBeNull();
    expect(await readdir(dataDir)).toEqual([]);
    await readOrCreateExportKey({ dataDir });
    expect(await exportKeyProblem({ dataDir })).toBeNull();
  });

  it("names a key file that would refuse exports: not a key, readable by others, or missing where the deployment manages it", async () => {
    await mkdir(join(dataDir, "keys"), { recursive: true });
    await writeFile(defaultPath(), "not a key", { mode: 0o600 });
    expect(await exportKeyProblem({ dataDir })).toMatch(/audit-export-ed25519\.pem: is not an Ed25519 private key/);
    if (unix) {
      await rm(defaultPath());
      await readOrCreateExportKey({ dataDir });
      await chmod(defaultPath(), 0o644);
      expect(await exportKeyProblem({ dataDir })).toMatch(/other users may read or change it \(mode 0644\)/);
    }
    const managed = join(dataDir, "mounted", "key.pem");
    expect(await exportKeyProblem({ dataDir, auditExportKeyFile: managed })).toMatch(/key\.pem: does not exist \(RCMNET_AUDIT_SIGNING_KEY_FILE names it\)/);
  });
});

