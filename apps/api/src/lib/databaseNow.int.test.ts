import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApi, type TestApi } from "../testing/index.ts";
import { databaseNow } from "./databaseNow.ts";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api?.close();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("databaseNow", () => {
  it("reads the database's clock, not this host's, even when this host's is an hour off", async () => {
    const real = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(real + 3_600_000);
    const now = await databaseNow(api.prisma);
    expect(Math.abs(now.getTime() - real)).toBeLessThan(60_000);
  });
});
