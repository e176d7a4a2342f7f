// The Ed25519 key that signs each audit export's closing line (auditCsv.ts, auditCsvFormat.ts
// signClosingLine): anyone can recompute the sha256 of a rewritten copy, no one without this key
// can sign it again. Kept outside the database, as the anchor file is: whoever can rewrite the
// trail's tables must not hold it too. RCMNET_AUDIT_SIGNING_KEY_FILE names a key a deployment
// manages (it must exist); unset, the API makes one on first use in its data dir, once, whatever
// the number of API processes starting together. A file that is there but is not an Ed25519
// private key refuses every export until an operator restores it: it is never replaced, since a
// new key made over a damaged one would sign as the platform while nothing said the key changed.
// Every key that signs is recorded in the trail once (audit.exportKey.register: fingerprint and
// public key), so that an auditor can tie a signature to the trail, old exports included.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { PrismaClient } from "@rcmnet/db";
import type { Env } from "../../env.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { exportKeyFingerprint } from "./auditCsvFormat.ts";

export const EXPORT_KEY_REGISTERED = "audit.exportKey.register";
export const EXPORT_KEY_ENTITY = "AuditExportKey";
/** Any number no other advisory lock in the system uses. */
const EXPORT_KEY_LOCK = 72430071;
/** A PKCS#8 PEM Ed25519 key is 119 bytes: anything far larger is not one, and is not read whole. */
const MAX_KEY_FILE_BYTES = 16 * 1024;

export interface ExportSigningKey {
  path: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM, as GET /audit/export-key publishes it. */
  publicKeyPem: string;
  /** exportKeyFingerprint: SHA-256 of the raw public key, hex. */
  fingerprint: string;
}

/** The key file cannot be used: exports are refused (fail closed) until an operator sees to it. */
export class ExportSigningKeyError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`audit export signing key ${path}: ${problem}`);
    this.name = "ExportSigningKeyError";
  }
}

/** Where the key is, and whether a deployment manages it (then the API never makes one). */
export function exportKeyLocation(env: Pick<Env, "dataDir" | "auditExportKeyFile">): { path: string; managed: boolean } {
  if (env.auditExportKeyFile) return { path: env.auditExportKeyFile, managed: true };
  return { path: join(env.dataDir, "keys", "audit-export-ed25519.pem"), managed: false };
}

const REPAIR = "exports are refused until it is restored; if it is lost, remove it and the API makes a new one (or, under RCMNET_AUDIT_SIGNING_KEY_FILE, put a new key there), recorded in the audit trail when first used";

/** The key at `path`, or null where there is no file; an ExportSigningKeyError for a file that is not a usable key. */
export async function readExportKey(path: string): Promise<ExportSigningKey | null> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ExportSigningKeyError(path, `cannot be read (${(err as Error).message}); ${REPAIR}`);
  }
  if (!info.isFile()) throw new ExportSigningKeyError(path, `is not a file; ${REPAIR}`);
  // As ssh refuses a private key others may read: a signature proves nothing if they could make it.
  if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
    throw new ExportSigningKeyError(path, `other users may read or change it (mode ${(info.mode & 0o777).toString(8).padStart(4, "0")}): chmod 600 it, owned by the API's user`);
  }
  if (info.size > MAX_KEY_FILE_BYTES) throw new ExportSigningKeyError(path, `is not an Ed25519 private key (${info.size} bytes); ${REPAIR}`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(path, "utf8"));
  } catch (err) {
    throw new ExportSigningKeyError(path, `is not an Ed25519 private key in PKCS#8 PEM (${(err as Error).message}); ${REPAIR}`);
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new ExportSigningKeyError(path, `is a ${privateKey.asymmetricKeyType ?? "unknown"} key, not Ed25519; ${REPAIR}`);
  }
  const publicKey = createPublicKey(privateKey);
  return { path, privateKey, publicKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), fingerprint: exportKeyFingerprint(publicKey) };
}

/**
 * Writes a new key at `path` unless a file is there. Written whole to a file of its own, then
 * linked to its name, which fails where another process's key got there first (theirs is kept,
 * and read back by the caller): a reader never sees half a key, and no key is written over.
 */
export async function createExportKeyFile(path: string): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" });
  const temporary = `${path}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`;
  const file = await open(temporary, "wx", 0o600);
  try {
    await file.writeFile(pem);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(temporary, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await unlink(temporary);
  }
  const handle = await open(folder, "r");
  try {
    await handle.sync(); // the name durable too: a key that signed must survive a power cut
  } finally {
    await handle.close();
  }
}

/**
 * Why exports would be refused, as the API starts (null: they would not be): the key file there but
 * unusable, or missing where the deployment manages it. Read only: nothing is made or recorded
 * here (a key the API keeps itself is made at its first use), so that an operator reads it in the
 * start-up log rather than from an auditor whose export failed.
 */
export async function exportKeyProblem(env: Pick<Env, "dataDir" | "auditExportKeyFile">): Promise<string | null> {
  const { path, managed } = exportKeyLocation(env);
  try {
    const found = await readExportKey(path);
    if (!found && managed) return `audit export signing key ${path}: does not exist (RCMNET_AUDIT_SIGNING_KEY_FILE names it): exports are refused until it is there`;
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** The key at the configured place; made there first where the API keeps its own and none is there yet. */
export async function readOrCreateExportKey(env: Pick<Env, "dataDir" | "auditExportKeyFile">): Promise<ExportSigningKey> {
  const { path, managed } = exportKeyLocation(env);
  const found = await readExportKey(path);
  if (found) return found;
  if (managed) {
    // A missing mount or a mistyped path: a key made here would sign with a key no one manages.
    throw new ExportSigningKeyError(path, "does not exist (RCMNET_AUDIT_SIGNING_KEY_FILE names it): exports are refused until it is there; the API makes a key itself only when that variable is unset");
  }
  await createExportKeyFile(path);
  const made = await readExportKey(path);
  if (!made) throw new ExportSigningKeyError(path, "vanished right after it was made");
  return made;
}

/**
 * Records the key in the trail unless it is there already (one event per key, whichever process
 * first uses it), and returns that event's seq. The system's event: no user made the key.
 */
export async function recordExportKey(prisma: PrismaClient, key: ExportSigningKey): Promise<bigint> {
  return prisma.$transaction(async (tx) => {
    // Two API processes starting at once: the second waits, then finds the first one's event.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${EXPORT_KEY_LOCK}::bigint)`;
    const where = { action: EXPORT_KEY_REGISTERED, entityType: EXPORT_KEY_ENTITY, entityId: key.fingerprint };
    const known = await tx.auditEvent.findFirst({ where, select: { seq: true } });
    if (known) return known.seq;
    await recordAudit(tx, null, { ...where, after: { algorithm: "ed25519", fingerprint: key.fingerprint, publicKey: key.publicKeyPem, keyFile: key.path } });
    return (await tx.auditEvent.findFirstOrThrow({ where, select: { seq: true } })).seq;
  });
}

/** Per path: read once per process (a new key takes effect at the API's restart). A failure is not kept: the next export tries again. */
const loaded = new Map<string, Promise<ExportSigningKey>>();
/** Per database client, the fingerprints recorded and their events. */
const recorded = new WeakMap<PrismaClient, Map<string, bigint>>();

/** The platform's export key, recorded in the trail, with the seq of the event that records it. */
export async function exportSigningKey(prisma: PrismaClient, env: Pick<Env, "dataDir" | "auditExportKeyFile">): Promise<{ key: ExportSigningKey; recordedSeq: bigint }> {
  const { path } = exportKeyLocation(env);
  let pending = loaded.get(path);
  if (!pending) {
    pending = readOrCreateExportKey(env);
    loaded.set(path, pending);
    pending.catch(() => loaded.delete(path));
  }
  const key = await pending;
  let seqs = recorded.get(prisma);
  if (!seqs) recorded.set(prisma, (seqs = new Map()));
  let recordedSeq = seqs.get(key.fingerprint);
  if (recordedSeq === undefined) {
    recordedSeq = await recordExportKey(prisma, key);
    seqs.set(key.fingerprint, recordedSeq);
  }
  return { key, recordedSeq };
}
