// The API's and the workers' configuration: the anchoring interval is refused at start-up unless
// it is whole minutes, an empty value included (coerced, it read as 0: anchoring off, unsaid).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "./env.ts";

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
