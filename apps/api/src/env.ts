// The reader of process.env in @rcmnet/api: everything else receives a validated Env, but for the
// worker's job list (worker.ts, RCMNET_WORKER_JOBS) and the demo seed's inputs (seed/demo.ts).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { DEFAULT_ANCHOR_MINUTES, defaultDataDir, MAX_ANCHOR_MINUTES } from "@rcmnet/db";
import { UPLOAD_IMAGE_LIMITS } from "./modules/slides/uploadLimits.ts";
import { type HostRule, parseHost, parseHostRules } from "./lib/hostCheck.ts";

/**
 * A number in an environment variable, digits only (a decimal point where `decimal`): coerced,
 * an empty value (`RCMNET_PASSWORD_MAX_AGE_DAYS=`) reads as 0 and "0x10" or "1e2" as numbers,
 * none of which anyone meant. Then `range` judges the number.
 */
function digits(what: string, range: z.ZodNumber, { fallback, decimal = false }: { fallback?: number; decimal?: boolean } = {}) {
  const pattern = decimal ? /^\d{1,15}(\.\d{1,15})?$/ : /^\d{1,15}$/;
  const unset = fallback === undefined ? "" : ` (an empty value is not 0: unset it for the default, ${fallback})`;
  const text = z.string().trim().regex(pattern, `not ${what}${unset}`);
  return (fallback === undefined ? text : text.default(String(fallback))).transform(Number).pipe(range);
}

const EVERY_INTERFACE = "empty, which would listen on every interface: unset it for the default, 127.0.0.1 (this machine only), or set 0.0.0.0 to serve the network";

/**
 * Settings an empty value (`API_HOST=`, the usual shell way to unset one) would not unset: to
 * listen() an empty host is every interface, to resolve() an empty path the current directory (the
 * checkout: secrets, blobs, the export signing key and the embedded database written there, none
 * of them git-ignored). Refused, naming the default an unset one gets. npm start reads them as well
 * (launcherSetting), and WEB_HOST, the dashboard's.
 */
const NON_EMPTY = {
  RCMNET_DATA_DIR: { fallback: defaultDataDir, refusal: `empty, which would be the current directory: unset it for the default, ${defaultDataDir}` },
  API_HOST: { fallback: "127.0.0.1", refusal: EVERY_INTERFACE },
  WEB_HOST: { fallback: "127.0.0.1", refusal: EVERY_INTERFACE },
} as const;
type NonEmptySetting = keyof typeof NON_EMPTY;

function nonEmpty(name: NonEmptySetting) {
  return z.string().refine((value) => value.trim() !== "", NON_EMPTY[name].refusal).default(NON_EMPTY[name].fallback);
}

// A registered symbol, one in every copy of this module: npm start (CommonJS under tsx) imports
// env.ts, and the seed modules it loads with import() import it again as ES modules, so a class
// from one copy is not the other's for instanceof.
const CONFIGURATION: unique symbol = Symbol.for("rcmnet.ConfigurationError") as never;

/**
 * A configuration the platform refuses: no restart can clear it, so an entry point stops with
 * exit 2 (docs/operations.md: the code a supervisor is told not to restart on).
 */
export class ConfigurationError extends Error {
  /** Its brand (see isConfigurationError). */
  readonly [CONFIGURATION] = true;
}

/** Whether `err` is a ConfigurationError, of whichever copy of this module. */
export function isConfigurationError(err: unknown): err is ConfigurationError {
  return typeof err === "object" && err !== null && (err as { [CONFIGURATION]?: unknown })[CONFIGURATION] === true;
}

/**
 * One of those settings as npm start (scripts/start.ts) reads it, before it opens anything: unset,
 * its default; empty (or blank), refused in loadEnv's words.
 */
export function launcherSetting(source: NodeJS.ProcessEnv, name: NonEmptySetting): string {
  const value = source[name];
  if (value !== undefined && value.trim() === "") throw new ConfigurationError(`${name}: ${NON_EMPTY[name].refusal}`);
  return value ?? NON_EMPTY[name].fallback;
}

/**
 * API_PORT or WEB_PORT as npm start reads them, before it opens anything: unset, the default; an
 * empty value (which Number() reads as 0: a random port the launcher then waits on in vain) or
 * anything but a port number, refused as loadEnv refuses it.
 */
export function launcherPort(source: NodeJS.ProcessEnv, name: "API_PORT" | "WEB_PORT", fallback: number): number {
  const parsed = digits("a port number", z.number().int().min(1).max(65535), { fallback }).safeParse(source[name]);
  if (!parsed.success) throw new ConfigurationError(`${name}: ${parsed.error.issues[0]?.message ?? "not a port number"}`);
  return parsed.data;
}

/**
 * TEST cells a promotion's figures must rest on at least (RCMNET_MIN_TEST_CELLS): on 20 cells a
 * top-1 of 90% has a Wilson 95% interval of 69.9% to 97.2%, too wide to choose by the model every
 * new patient's cells are classified by; on 100 cells, 82.6% to 94.5%.
 */
export const DEFAULT_MIN_TEST_CELLS = 100;

const schema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  /** Unset: the server starts the embedded PGlite database in the data dir. */
  DATABASE_URL: z.string().min(1).optional(),
  /** The tables' owner, used only to migrate; DATABASE_URL may then be a role without DDL rights. */
  RCMNET_MIGRATION_DATABASE_URL: z.string().min(1).optional(),
  /**
   * 1: a production start may connect as a role that could change the audit trail (the tables'
   * owner, a superuser), warning on every start; single-user evaluation only (@rcmnet/db
   * checkPlatformRole). Unset or 0: refused.
   */
  RCMNET_ALLOW_OWNER_ROLE: z.enum(["0", "1"], { message: "RCMNET_ALLOW_OWNER_ROLE must be 1 (allow) or 0" }).optional(),
  /**
   * 1 (npm start sets it for its children): DATABASE_URL is the embedded database the launcher
   * opened, whose one role, a superuser, is said nothing of outside production.
   */
  RCMNET_EMBEDDED_DATABASE: z.enum(["0", "1"], { message: "RCMNET_EMBEDDED_DATABASE must be 1 or 0" }).optional(),
  API_PORT: digits("a port number", z.number().int().min(1).max(65535), { fallback: 4000 }),
  API_HOST: nonEmpty("API_HOST"),
  /**
   * Names the API answers to besides loopback (localhost, 127.0.0.1, [::1]: always), comma
   * separated `host[:port]` (no port: any). A request whose Host header names anything else is
   * refused (DNS rebinding, lib/hostCheck.ts): a dashboard whose API_URL is not loopback needs
   * that URL's host here. API_HOST, when it names one address or name, is added.
   */
  API_ALLOWED_HOSTS: z
    .string()
    .default("")
    .transform((value, ctx) => {
      try {
        return parseHostRules(value.split(","));
      } catch (err) {
        ctx.addIssue({ code: "custom", message: `${(err as Error).message} (comma-separated host[:port], e.g. api.internal:4000)` });
        return z.NEVER;
      }
    }),
  /** HTTP worker processes sharing the port (node:cluster); 2 uses both cores of a 2-core host. */
  API_WORKERS: digits("a whole number", z.number().int().min(1).max(32), { fallback: 1 }),
  RCMNET_DATA_DIR: nonEmpty("RCMNET_DATA_DIR"),
  /** HS256 key for API tokens; dev default: generated once into <dataDir>/auth-secret. */
  RCMNET_AUTH_SECRET: z.string().min(32, "RCMNET_AUTH_SECRET must be at least 32 characters").optional(),
  RCMNET_TOKEN_TTL_SECONDS: digits("a whole number of seconds", z.number().int().min(60).max(24 * 3600), { fallback: 8 * 3600 }),
  /** A session unused this long ends (automatic logoff); background polls do not count as use. */
  RCMNET_IDLE_TIMEOUT_SECONDS: digits("a whole number of seconds", z.number().int().min(60).max(2 * 3600), { fallback: 30 * 60 }),
  RCMNET_LOG_LEVEL: z.enum(["silent", "error", "info", "debug"]).default("info"),
  RCMNET_TOKEN_REQUESTS_PER_MINUTE: digits("a whole number", z.number().int().min(1)).optional(),
  RCMNET_MAX_TRAINING_IMAGE_GIB: digits("a number of GiB", z.number().positive().max(1024), { decimal: true }).optional(),
  /** A password older than this must be replaced at the next sign-in (0: never; so an empty value is refused, not 0). */
  RCMNET_PASSWORD_MAX_AGE_DAYS: digits("a whole number of days from 0 (never) to 3650", z.number().int().min(0).max(3650), { fallback: 180 }),
  /** A password an administrator set that is not replaced within this no longer signs in. */
  RCMNET_TEMPORARY_PASSWORD_HOURS: digits("a whole number of hours", z.number().int().min(1).max(24 * 90), { fallback: 72 }),
  /** Fewer TEST cells than this under a proposal's figures: proposePromotion refuses it. */
  RCMNET_MIN_TEST_CELLS: digits("a whole number of TEST cells, 1 or more", z.number().int().min(1, "at least 1 TEST cell"), { fallback: DEFAULT_MIN_TEST_CELLS }),
  /** The commit a deployment without .git was built from (training runs record their code). */
  RCMNET_BUILD_COMMIT: z.string().regex(/^[0-9a-f]{7,64}$/, "RCMNET_BUILD_COMMIT must be a lowercase git commit hash").optional(),
  /**
   * Minutes between the worker's copies of the audit chain's head to the anchor file (0: none).
   * Digits only: coerced, an empty value (`RCMNET_AUDIT_ANCHOR_MINUTES=`) would read as 0 and
   * switch anchoring off without a word. Unset: 10.
   */
  RCMNET_AUDIT_ANCHOR_MINUTES: z
    .string()
    .trim()
    .regex(
      /^\d{1,4}$/,
      `not a whole number of minutes from 0 to ${MAX_ANCHOR_MINUTES} (an empty value is not 0: unset it for the default, ${DEFAULT_ANCHOR_MINUTES}; 0 turns anchoring off)`,
    )
    .default(String(DEFAULT_ANCHOR_MINUTES))
    .transform(Number)
    .pipe(z.number().int().max(MAX_ANCHOR_MINUTES, `at most ${MAX_ANCHOR_MINUTES} minutes (a day)`)),
  /** The anchor file (docs/decisions.md D2); unset: <dataDir>/audit-anchors.jsonl. */
  RCMNET_AUDIT_ANCHOR_FILE: z.string().min(1).optional(),
  /**
   * The Ed25519 private key (PKCS#8 PEM) that signs audit exports, for deployments that manage
   * their keys: it must exist. Unset: made once at <dataDir>/keys/audit-export-ed25519.pem.
   */
  RCMNET_AUDIT_SIGNING_KEY_FILE: z.string().min(1).optional(),
});

export interface Env {
  nodeEnv: "development" | "test" | "production";
  databaseUrl: string | undefined;
  /** Owner URL to migrate with (RCMNET_MIGRATION_DATABASE_URL); unset: databaseUrl migrates. */
  migrationUrl: string | undefined;
  /** RCMNET_ALLOW_OWNER_ROLE=1: production may run as a role that could change the audit trail (evaluation only). */
  allowOwnerRole?: boolean;
  /** RCMNET_EMBEDDED_DATABASE=1: databaseUrl is the embedded database npm start opened. */
  embeddedDatabase?: boolean;
  port: number;
  host: string;
  /** API_ALLOWED_HOSTS and API_HOST: the names besides loopback the API answers to (app.ts). */
  allowedHosts: HostRule[];
  workers: number;
  dataDir: string;
  authSecret: string;
  tokenTtlSeconds: number;
  idleTimeoutSeconds: number;
  /** RCMNET_PASSWORD_MAX_AGE_DAYS (auth/passwordAge.ts). */
  passwordMaxAgeDays: number;
  /** RCMNET_TEMPORARY_PASSWORD_HOURS (auth/passwordAge.ts). */
  temporaryPasswordHours: number;
  /** RCMNET_MIN_TEST_CELLS (modules/models/proposePromotion.ts). */
  minTestCells: number;
  /** RCMNET_BUILD_COMMIT (jobs/model/codeVersion.ts). */
  buildCommit?: string | undefined;
  /** RCMNET_AUDIT_ANCHOR_MINUTES (jobs/anchorAuditHead.ts); 0: the worker writes no anchors. */
  auditAnchorMinutes: number;
  /** RCMNET_AUDIT_ANCHOR_FILE: the worker appends the chain head there, the verifier checks it. */
  auditAnchorFile: string;
  /**
   * RCMNET_AUDIT_SIGNING_KEY_FILE, resolved (modules/audit/exportSigningKey.ts); unset: the API
   * makes its own key in the data dir on first use.
   */
  auditExportKeyFile?: string | undefined;
  logLevel: "silent" | "error" | "info" | "debug";
  limits: Limits;
}

/** Request limits; tests may shrink them. */
export interface Limits {
  /** JSON body of a GraphQL request. */
  maxBodyBytes: number;
  maxQueryDepth: number;
  /** Selected fields after fragment expansion, a simple complexity measure. */
  maxQueryFields: number;
  /** Estimated rows and fields, nested page sizes multiplied (limits.ts queryCostLimit). */
  maxQueryCost: number;
  /**
   * Tokens of a query document, checked while parsing: the other limits are checked after a
   * whole document is parsed and validated, which a 250 KB one makes cost ~0.3 s of CPU.
   */
  maxQueryTokens: number;
  /** Per uploaded file. */
  maxUploadBytes: number;
  maxUploadFiles: number;
  /** All files of one upload together: they are held in memory until every one is validated. */
  maxUploadTotalBytes: number;
  /** Decoded pixels per image: refuses decompression bombs before decoding. */
  maxImagePixels: number;
  /**
   * Free disk space an upload must leave in the data dir: blobs share the disk with the
   * embedded database, and a full disk would stop every write, audit events included.
   */
  minFreeDiskBytes: number;
  /** Login attempts per client address per minute (on top of the per-account lockout). */
  loginAttemptsPerMinute: number;
  /** Requests per user per minute, all sessions together: a runaway script or a stolen token cannot flood the API. */
  requestsPerTokenPerMinute: number;
  /** Grad-CAM overlays computed (cache misses: each one runs the model) per user per minute. */
  gradcamPerUserPerMinute: number;
  /** How long a Grad-CAM overlay waits for one of the process's model slots before RATE_LIMITED. */
  gradcamWaitMs: number;
  /**
   * Decoded TRAIN and VAL images of one training run (cells x size² x 3 bytes): training decodes
   * them all up front, and a worker past its memory is killed, retried and killed again.
   */
  maxTrainingImageBytes: number;
}

export const defaultLimits: Limits = {
  maxBodyBytes: 256 * 1024,
  maxQueryDepth: 12,
  maxQueryFields: 600,
  // The heaviest paged dashboard query (a review page of up to 1,000 cells) estimates at ~38,000.
  maxQueryCost: 100_000,
  // The largest dashboard operation has a few hundred (limits.test.ts).
  maxQueryTokens: 5_000,
  maxUploadBytes: UPLOAD_IMAGE_LIMITS.maxBytes,
  maxUploadFiles: 50,
  // 50 smear fields of ~5 MB; without it one request could hold 50 x 25 MB = 1.25 GB.
  maxUploadTotalBytes: 256 * 1024 * 1024,
  maxImagePixels: UPLOAD_IMAGE_LIMITS.maxPixels,
  minFreeDiskBytes: 2 * 1024 ** 3,
  loginAttemptsPerMinute: 20,
  // A reviewer's dashboard sends a few requests per second at most (pages poll every 1-5 s).
  requestsPerTokenPerMinute: 1200,
  // A reviewer opens a heat map every few seconds at most; a script walking every cell does not.
  gradcamPerUserPerMinute: 120,
  // A gallery's overlays queue behind the two slots; one that waits longer is refused (its tile keeps the crop).
  gradcamWaitMs: 10_000,
  // 8 GiB: ~170,000 cells at 128 px, ~55,000 at 224 px.
  maxTrainingImageBytes: 8 * 1024 ** 3,
};

/** API_HOST values that listen on every interface: no name a client would use. */
const WILDCARD_BINDS = new Set(["0.0.0.0", "[::]"]);

/** A server bound to one address or name answers to it; a wildcard bind names none. */
function boundHostRules(apiHost: string): HostRule[] {
  const host = apiHost.trim();
  // An IPv6 address as listen() takes it (::1) is written in brackets in a Host header.
  const parsed = parseHost(host.includes(":") && !host.startsWith("[") ? `[${host}]` : host);
  if (!parsed || parsed.port !== undefined || WILDCARD_BINDS.has(parsed.hostname)) return [];
  return [{ hostname: parsed.hostname }];
}

/** In development a secret is generated once and kept in the data dir (mode 0600). */
function devSecret(dataDir: string): string {
  const file = join(dataDir, "auth-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, secret, { mode: 0o600, flag: "wx" });
  return secret;
}

/**
 * loadEnv for an entry point (server.ts, worker.ts): a configuration it refuses (API_PORT=80a,
 * production without RCMNET_AUTH_SECRET) cannot start however often it is restarted, so it is said
 * in one line, `<who> not started: ...`, and the process exits 2, the code a supervisor is told not
 * to restart on (docs/operations.md), as for a DATABASE_URL that can never work. Uncaught, it would
 * be a stack trace and exit 1, which a supervisor restarts for ever.
 */
export function loadEnvOrExit(who: string, logError: (line: string) => void): Env {
  try {
    return loadEnv();
  } catch (err) {
    // Only a refused setting: a dev secret's write that lost a race or met a full disk may work on
    // the next start, which exit 2 would forbid.
    if (!isConfigurationError(err)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    logError(`${who} not started: ${message.replace(/\s*\n\s*/g, " ")}`);
    process.exit(2);
  }
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigurationError(`Invalid API configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.RCMNET_DATA_DIR);
  if (e.NODE_ENV === "production" && !e.RCMNET_AUTH_SECRET) {
    throw new ConfigurationError("RCMNET_AUTH_SECRET is required in production");
  }
  return {
    nodeEnv: e.NODE_ENV,
    databaseUrl: e.DATABASE_URL,
    migrationUrl: e.RCMNET_MIGRATION_DATABASE_URL,
    allowOwnerRole: e.RCMNET_ALLOW_OWNER_ROLE === "1",
    embeddedDatabase: e.RCMNET_EMBEDDED_DATABASE === "1",
    port: e.API_PORT,
    host: e.API_HOST,
    allowedHosts: [...e.API_ALLOWED_HOSTS, ...boundHostRules(e.API_HOST)],
    workers: e.API_WORKERS,
    dataDir,
    authSecret: e.RCMNET_AUTH_SECRET ?? devSecret(dataDir),
    tokenTtlSeconds: e.RCMNET_TOKEN_TTL_SECONDS,
    idleTimeoutSeconds: e.RCMNET_IDLE_TIMEOUT_SECONDS,
    passwordMaxAgeDays: e.RCMNET_PASSWORD_MAX_AGE_DAYS,
    temporaryPasswordHours: e.RCMNET_TEMPORARY_PASSWORD_HOURS,
    minTestCells: e.RCMNET_MIN_TEST_CELLS,
    buildCommit: e.RCMNET_BUILD_COMMIT,
    auditAnchorMinutes: e.RCMNET_AUDIT_ANCHOR_MINUTES,
    auditAnchorFile: resolve(e.RCMNET_AUDIT_ANCHOR_FILE ?? join(dataDir, "audit-anchors.jsonl")),
    auditExportKeyFile: e.RCMNET_AUDIT_SIGNING_KEY_FILE === undefined ? undefined : resolve(e.RCMNET_AUDIT_SIGNING_KEY_FILE),
    logLevel: e.RCMNET_LOG_LEVEL,
    limits: {
      ...defaultLimits,
      requestsPerTokenPerMinute: e.RCMNET_TOKEN_REQUESTS_PER_MINUTE ?? defaultLimits.requestsPerTokenPerMinute,
      maxTrainingImageBytes: e.RCMNET_MAX_TRAINING_IMAGE_GIB ? Math.round(e.RCMNET_MAX_TRAINING_IMAGE_GIB * 1024 ** 3) : defaultLimits.maxTrainingImageBytes,
    },
  };
}
