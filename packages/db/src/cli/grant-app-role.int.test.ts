// npm run grant-app-role as an operator runs it: a child process (tsx, as the npm script). Its
// exit code is what a provisioning script reads: 0 granted, 1 granted but TEMPORARY still held,
// 2 a usage error, 3 nothing granted; the failures in one line, never a stack trace.
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../paths.ts";
import { createTestDatabase, type TestDatabase } from "../testing.ts";

const exec = promisify(execFile);
const tsx = join(repoRoot, "node_modules/.bin/tsx");
const script = resolve(import.meta.dirname, "grant-app-role.ts");

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** The CLI as the test database's owner (whatever the test's shell carries is dropped). */
async function grantAppRole(role: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, RCMNET_MIGRATION_DATABASE_URL: db.url };
  delete env.DATABASE_URL;
  try {
    const { stdout, stderr } = await exec(tsx, [script, role], { env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("npm run grant-app-role: failures", () => {
  it("refuses a name that is not lower-case letters, digits and _ as a usage error (exit 2), without a stack trace", async () => {
    const run = await grantAppRole('App"; DROP TABLE "case');
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: "" });
    expect(run.stderr).toMatch(/^role name "App\\"; DROP TABLE \\"case": use lower-case letters, digits and _ only\nusage: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // Refused before it connects: the table the name would have dropped is still there.
    expect(await db.prisma.case.count()).toBe(0);
  }, 60_000);

  it("says in one line that nothing was granted (exit 3, not 1: granted but TEMPORARY held) to a role that does not exist", async () => {
    const run = await grantAppRole("rcmnet_no_such_role");
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 3, stdout: "" });
    expect(run.stderr).toBe('Nothing granted to rcmnet_no_such_role: role "rcmnet_no_such_role" does not exist\n');
  }, 60_000);
});
