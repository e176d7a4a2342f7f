// A production worker exits only when its database role is refused (D2): a database restarting or
// not migrated yet is waited for, with backoff, as the worker loop does.
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
});
