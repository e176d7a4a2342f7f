// The code a training run records: the package version always; the commit from git in a checkout,
// from RCMNET_BUILD_COMMIT where there is no .git (a container image), else "unknown".
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCodeVersion } from "./codeVersion.ts";

let outside: string;
beforeAll(async () => {
  outside = await mkdtemp(join(tmpdir(), "rcmnet-no-git-"));
});
afterAll(() => rm(outside, { recursive: true, force: true }));

describe("readCodeVersion", () => {
  it("outside a git checkout, records the build's commit when given, else 'unknown'; the package version either way", async () => {
    const given = await readCodeVersion("0123456789abcdef0123456789abcdef01234567", outside);
    expect(given).toMatchObject({ commit: "0123456789abcdef0123456789abcdef01234567", dirty: null });
    expect(given.modelPackage).toMatch(/^\d+\.\d+\.\d+/);
    expect((await readCodeVersion(undefined, outside)).commit).toBe("unknown");
  });
  // Only where the tests run from a git checkout (CI clones; a source tarball has no .git).
  it.skipIf(!existsSync(fileURLToPath(new URL("../../../../../.git", import.meta.url))))("in the checkout, git's commit wins over a stale build commit", async () => {
    expect((await readCodeVersion("0000000")).commit).toMatch(/^[0-9a-f]{40}$/);
  });
});
