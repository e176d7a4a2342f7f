// A production worker exits when its database role is refused (D2) or DATABASE_URL can never work
// (a wrong password, an unknown role or database): a database restarting or not migrated yet is
// waited for, with backoff, as the worker loop does.
import { PlatformRoleError } from "@rcmnet/db";
import { describe, expect, it, vi } from "vitest";
import { checkRoleBeforeWork } from "./checkRoleBeforeWork.ts";

function logger() {
  return { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

describe("checkRoleBeforeWork", () => {
  it("waits out a database it cannot reach or that is not migrated, 1 s doubling to 30 s, then goes on", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const check = vi.fn<() => Promise<string | null>>();
    for (let i = 0; i < 6; i++) check.mockRejectedValueOnce(refused);
    check.mockRejectedValueOnce(new Error("no table audit_event: migrate the database first"));
    check.mockResolvedValueOnce(null);
    const sleep = vi.fn(async (_ms: number) => {});
    const exit = vi.fn();
    const log = logger();
    await checkRoleBeforeWork(check, { log, sleep, exit });
    expect(exit).not.toHaveBeenCalled();
    expect(check).toHaveBeenCalledTimes(8);
    expect(sleep.mock.calls.map((c) => c[0])).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(log.warn).toHaveBeenCalledTimes(7);
    expect(log.warn.mock.calls[0]![1]).toMatchObject({ error: "connect ECONNREFUSED 127.0.0.1:5432", retryInMs: 1000 });
    expect(log.warn.mock.calls[6]![1]).toMatchObject({ error: "no table audit_event: migrate the database first" });
    expect(log.error).not.toHaveBeenCalled();
  });

  it("logs the allowed role's warning once and goes on", async () => {
    const log = logger();
    const exit = vi.fn();
    await checkRoleBeforeWork(async () => "DATABASE_URL signs in as \"postgres\" ...; started because RCMNET_ALLOW_OWNER_ROLE=1", { log, sleep: vi.fn(), exit });
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]![0]).toMatch(/RCMNET_ALLOW_OWNER_ROLE=1/);
    expect(exit).not.toHaveBeenCalled();
  });

  it("exits 2 on the refusal, without retrying, after a connection error before it", async () => {
    const check = vi
      .fn<() => Promise<string | null>>()
      .mockRejectedValueOnce(new Error("connect ECONNREFUSED 127.0.0.1:5432"))
      .mockRejectedValueOnce(new PlatformRoleError("DATABASE_URL signs in as \"postgres\", which is a superuser. Refusing to start in production."));
    const sleep = vi.fn(async (_ms: number) => {});
    const exit = vi.fn();
    const log = logger();
    await checkRoleBeforeWork(check, { log, sleep, exit });
    expect(exit).toHaveBeenCalledExactlyOnceWith(2);
    expect(check).toHaveBeenCalledTimes(2);
    expect(sleep).toHaveBeenCalledTimes(1);
    expect(log.error).toHaveBeenCalledExactlyOnceWith(expect.stringMatching(/Refusing to start in production/));
  });

  it("exits 2 on a DATABASE_URL that can never work, with one line naming the fault, after a connection error before it", async () => {
    // What checkPlatformRole's node-postgres client throws for a wrong password, an unknown role, an unknown database.
    const faults = [
      ["28P01", 'password authentication failed for user "rcmnet"', /password in DATABASE_URL is wrong/],
      ["28000", 'role "rcmnet_app" does not exist', /role in nowhere/],
      ["3D000", 'database "rcmnett" does not exist', /database named in DATABASE_URL does not exist/],
    ] as const;
    for (const [code, message, what] of faults) {
      const check = vi
        .fn<() => Promise<string | null>>()
        .mockRejectedValueOnce(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }))
        .mockRejectedValue(Object.assign(new Error(message), { code, severity: "FATAL" }));
      // Waiting it out a few times is a failure, not a hang.
      const sleep = vi.fn(async (_ms: number) => {
        if (sleep.mock.calls.length > 3) throw new Error(`retried ${code} as if it could heal`);
      });
      const exit = vi.fn();
      const log = logger();
      await checkRoleBeforeWork(check, { log, sleep, exit });
      expect(exit).toHaveBeenCalledExactlyOnceWith(2);
      expect(check).toHaveBeenCalledTimes(2);
      expect(sleep).toHaveBeenCalledTimes(1);
      expect(log.error).toHaveBeenCalledExactlyOnceWith(expect.stringMatching(what), { sqlstate: code });
      expect(log.error.mock.calls[0]![0]).toMatch(new RegExp(`SQLSTATE ${code}: .*correct DATABASE_URL`));
    }
  });
});
