// The API's and the workers' configuration: the anchoring interval is refused at start-up unless
// it is whole minutes, an empty value included (coerced, it read as 0: anchoring off, unsaid).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultDataDir } from "@rcmnet/db";
import { launcherSetting, loadEnv } from "./env.ts";

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "rcmnet-env-"));
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const base = () => ({ RCMNET_DATA_DIR: dataDir, RCMNET_AUTH_SECRET: "s".repeat(40) });

describe("RCMNET_AUDIT_ANCHOR_MINUTES", () => {
  it("is 10 unless set, and takes whole minutes from 0 (off) to a day", () => {
    expect(loadEnv(base()).auditAnchorMinutes).toBe(10);
    for (const [value, minutes] of [["0", 0], ["1", 1], ["15", 15], [" 30 ", 30], ["1440", 1440]] as const) {
      expect(loadEnv({ ...base(), RCMNET_AUDIT_ANCHOR_MINUTES: value }).auditAnchorMinutes, value).toBe(minutes);
    }
  });

  it("refuses an empty value rather than reading it as 0, and anything but whole minutes up to a day", () => {
    for (const value of ["", " ", "ten", "2.5", "-5", "1e2", "0x10"]) {
      expect(() => loadEnv({ ...base(), RCMNET_AUDIT_ANCHOR_MINUTES: value }), JSON.stringify(value)).toThrow(
        /^Invalid API configuration:\n {2}RCMNET_AUDIT_ANCHOR_MINUTES: not a whole number of minutes from 0 to 1440 \(an empty value is not 0: unset it for the default, 10; 0 turns anchoring off\)$/,
      );
    }
    expect(() => loadEnv({ ...base(), RCMNET_AUDIT_ANCHOR_MINUTES: "1441" })).toThrow(/RCMNET_AUDIT_ANCHOR_MINUTES: at most 1440 minutes \(a day\)$/);
  });
});

describe("the other numeric settings: digits only, as RCMNET_AUDIT_ANCHOR_MINUTES", () => {
  it("refuses an empty RCMNET_PASSWORD_MAX_AGE_DAYS rather than reading it as 0 (passwords never expiring)", () => {
    expect(loadEnv(base()).passwordMaxAgeDays).toBe(180);
    expect(loadEnv({ ...base(), RCMNET_PASSWORD_MAX_AGE_DAYS: "0" }).passwordMaxAgeDays).toBe(0);
    expect(loadEnv({ ...base(), RCMNET_PASSWORD_MAX_AGE_DAYS: " 90 " }).passwordMaxAgeDays).toBe(90);
    for (const value of ["", " ", "ninety", "2.5", "-5", "1e2", "0x10"]) {
      expect(() => loadEnv({ ...base(), RCMNET_PASSWORD_MAX_AGE_DAYS: value }), JSON.stringify(value)).toThrow(
        /^Invalid API configuration:\n {2}RCMNET_PASSWORD_MAX_AGE_DAYS: not a whole number of days from 0 \(never\) to 3650 \(an empty value is not 0: unset it for the default, 180\)$/,
      );
    }
    expect(() => loadEnv({ ...base(), RCMNET_PASSWORD_MAX_AGE_DAYS: "3651" })).toThrow(/RCMNET_PASSWORD_MAX_AGE_DAYS: /);
  });

  it("takes RCMNET_MIN_TEST_CELLS as a whole number of TEST cells from 1 (100 unless set), refusing 0, an empty value and other notations", () => {
    expect(loadEnv(base()).minTestCells).toBe(100);
    for (const [value, cells] of [["1", 1], [" 250 ", 250], ["100", 100]] as const) {
      expect(loadEnv({ ...base(), RCMNET_MIN_TEST_CELLS: value }).minTestCells, value).toBe(cells);
    }
    for (const value of ["", " ", "many", "2.5", "-5", "1e2", "0x10"]) {
      expect(() => loadEnv({ ...base(), RCMNET_MIN_TEST_CELLS: value }), JSON.stringify(value)).toThrow(
        /^Invalid API configuration:\n {2}RCMNET_MIN_TEST_CELLS: not a whole number of TEST cells, 1 or more \(an empty value is not 0: unset it for the default, 100\)$/,
      );
    }
    // 0 would let a promotion rest on no TEST cell at all.
    expect(() => loadEnv({ ...base(), RCMNET_MIN_TEST_CELLS: "0" })).toThrow(/^Invalid API configuration:\n {2}RCMNET_MIN_TEST_CELLS: at least 1 TEST cell$/);
  });

  it("takes digits (a decimal for the GiB) and refuses an empty value or other notations for every other number", () => {
    const good: [string, string, (e: ReturnType<typeof loadEnv>) => unknown, unknown][] = [
      ["API_PORT", "4100", (e) => e.port, 4100],
      ["API_WORKERS", "2", (e) => e.workers, 2],
      ["RCMNET_TOKEN_TTL_SECONDS", "3600", (e) => e.tokenTtlSeconds, 3600],
      ["RCMNET_IDLE_TIMEOUT_SECONDS", "600", (e) => e.idleTimeoutSeconds, 600],
      ["RCMNET_TEMPORARY_PASSWORD_HOURS", "24", (e) => e.temporaryPasswordHours, 24],
      ["RCMNET_TOKEN_REQUESTS_PER_MINUTE", "1000000000", (e) => e.limits.requestsPerTokenPerMinute, 1_000_000_000],
      ["RCMNET_MAX_TRAINING_IMAGE_GIB", "1.5", (e) => e.limits.maxTrainingImageBytes, Math.round(1.5 * 1024 ** 3)],
    ];
    for (const [name, value, read, expected] of good) {
      expect(read(loadEnv({ ...base(), [name]: value })), name).toBe(expected);
      for (const bad of ["", "1e2", "0x10", "-1"]) {
        expect(() => loadEnv({ ...base(), [name]: bad }), `${name}=${bad}`).toThrow(new RegExp(`^Invalid API configuration:\\n {2}${name}: not `));
      }
    }
  });
});

describe("API_ALLOWED_HOSTS", () => {
  it("adds the names listed (host[:port]) and a bound API_HOST to loopback; a wildcard bind adds none", () => {
    expect(loadEnv(base()).allowedHosts).toEqual([{ hostname: "127.0.0.1" }]);
    expect(loadEnv({ ...base(), API_HOST: "0.0.0.0", API_ALLOWED_HOSTS: "api.internal:4000, Rcmnet.Example" }).allowedHosts).toEqual([
      { hostname: "api.internal", port: "4000" },
      { hostname: "rcmnet.example" },
    ]);
    expect(loadEnv({ ...base(), API_HOST: "::" }).allowedHosts).toEqual([]);
    expect(loadEnv({ ...base(), API_HOST: "10.0.0.5" }).allowedHosts).toEqual([{ hostname: "10.0.0.5" }]);
  });

  it("refuses an entry that is not a host name or host:port", () => {
    expect(() => loadEnv({ ...base(), API_ALLOWED_HOSTS: "api.internal,https://rcmnet.example" })).toThrow(
      /^Invalid API configuration:\n {2}API_ALLOWED_HOSTS: not a host name or host:port: "https:\/\/rcmnet.example"/,
    );
  });
});

describe("RCMNET_ALLOW_OWNER_ROLE", () => {
  it("is off unless 1, and refuses anything but 1 or 0 rather than guessing (the override of a production refusal)", () => {
    expect(loadEnv(base()).allowOwnerRole).toBe(false);
    expect(loadEnv({ ...base(), RCMNET_ALLOW_OWNER_ROLE: "0" }).allowOwnerRole).toBe(false);
    expect(loadEnv({ ...base(), RCMNET_ALLOW_OWNER_ROLE: "1" }).allowOwnerRole).toBe(true);
    for (const value of ["", "true", "yes"]) {
      expect(() => loadEnv({ ...base(), RCMNET_ALLOW_OWNER_ROLE: value }), value).toThrow(/RCMNET_ALLOW_OWNER_ROLE: RCMNET_ALLOW_OWNER_ROLE must be 1 \(allow\) or 0$/);
    }
  });
});

describe("RCMNET_EMBEDDED_DATABASE", () => {
  it("is off unless 1 (npm start sets it for its children on the embedded database), 1 or 0 only", () => {
    expect(loadEnv(base()).embeddedDatabase).toBe(false);
    expect(loadEnv({ ...base(), RCMNET_EMBEDDED_DATABASE: "0" }).embeddedDatabase).toBe(false);
    expect(loadEnv({ ...base(), RCMNET_EMBEDDED_DATABASE: "1" }).embeddedDatabase).toBe(true);
    expect(() => loadEnv({ ...base(), RCMNET_EMBEDDED_DATABASE: "true" })).toThrow(/RCMNET_EMBEDDED_DATABASE: RCMNET_EMBEDDED_DATABASE must be 1 or 0$/);
  });
});

describe("RCMNET_AUDIT_SIGNING_KEY_FILE", () => {
  it("is unset unless given (the API then keeps its own key in the data dir), and resolved when given", () => {
    expect(loadEnv(base()).auditExportKeyFile).toBeUndefined();
    expect(loadEnv({ ...base(), RCMNET_AUDIT_SIGNING_KEY_FILE: "keys/export.pem" }).auditExportKeyFile).toBe(join(process.cwd(), "keys/export.pem"));
    expect(() => loadEnv({ ...base(), RCMNET_AUDIT_SIGNING_KEY_FILE: "" })).toThrow(/RCMNET_AUDIT_SIGNING_KEY_FILE/);
  });
});

describe("RCMNET_DATA_DIR and API_HOST: an empty value is refused, not read as unset", () => {
  it("refuses an empty (or blank) data dir, which would be the current directory, and an empty API_HOST, which would be every interface", () => {
    for (const value of ["", " "]) {
      expect(() => loadEnv({ ...base(), RCMNET_DATA_DIR: value }), JSON.stringify(value)).toThrow(
        new RegExp(`^Invalid API configuration:\\n {2}RCMNET_DATA_DIR: empty, which would be the current directory: unset it for the default, ${defaultDataDir}$`),
      );
      expect(() => loadEnv({ ...base(), API_HOST: value }), JSON.stringify(value)).toThrow(
        /^Invalid API configuration:\n {2}API_HOST: empty, which would listen on every interface: unset it for the default, 127\.0\.0\.1 \(this machine only\), or set 0\.0\.0\.0 to serve the network$/,
      );
    }
    expect(loadEnv(base()).host).toBe("127.0.0.1");
    expect(loadEnv({ ...base(), API_HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
    expect(loadEnv(base()).dataDir).toBe(dataDir);
  });
});

describe("launcherSetting (npm start reads RCMNET_DATA_DIR, API_HOST and WEB_HOST before it opens anything)", () => {
  it("answers the value, or the default when unset, and refuses an empty or blank one in loadEnv's words", () => {
    expect(launcherSetting({}, "RCMNET_DATA_DIR")).toBe(defaultDataDir);
    expect(launcherSetting({ RCMNET_DATA_DIR: "/srv/rcmnet" }, "RCMNET_DATA_DIR")).toBe("/srv/rcmnet");
    expect(launcherSetting({}, "WEB_HOST")).toBe("127.0.0.1");
    expect(launcherSetting({ WEB_HOST: "0.0.0.0" }, "WEB_HOST")).toBe("0.0.0.0");
    for (const value of ["", "  "]) {
      expect(() => launcherSetting({ RCMNET_DATA_DIR: value }, "RCMNET_DATA_DIR")).toThrow(`RCMNET_DATA_DIR: empty, which would be the current directory: unset it for the default, ${defaultDataDir}`);
      expect(() => launcherSetting({ WEB_HOST: value }, "WEB_HOST")).toThrow(/^WEB_HOST: empty, which would listen on every interface: /);
      expect(() => launcherSetting({ API_HOST: value }, "API_HOST")).toThrow(/^API_HOST: empty, which would listen on every interface: /);
    }
  });
});
