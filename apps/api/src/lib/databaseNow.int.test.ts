import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApi, type TestApi } from "../testing/index.ts";
import { confirmAsSeen, seedReviewableCase } from "../testing/fixtures.ts";
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

  it("dates a review with the database's clock, not this API host's, even when this host's is an hour off", async () => {
    const real = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(real + 3_600_000);
    // Signed in on the shifted clock, so that the session is not idle by it.
    const { user, password } = await api.createUser("HEMATOLOGIST");
    const hema = await api.login(user.login, password);
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: user.id, cells: 3 });
    await api.gqlOk(hema, `mutation($input: ReclassifyCellInput!) { reclassifyCell(input: $input) { id } }`, {
      input: { cellId: cellIds[0], expectedReviewCount: 0, expectedLabel: "car_t", label: "lymphocyte", reason: "round nucleus" },
    });
    // A bulk confirmation writes its reviews in one statement (createMany).
    await api.gqlOk(hema, `mutation($cells: [ConfirmCellInput!]!) { confirmCells(cells: $cells) { id } }`, {
      cells: await confirmAsSeen(api.prisma, cellIds.slice(1, 3)),
    });
    const [row] = await api.prisma.$queryRaw<{ now: Date }[]>`SELECT clock_timestamp() AS now`;
    const reviews = await api.prisma.review.findMany({ where: { cellId: { in: cellIds } } });
    expect(reviews).toHaveLength(3);
    for (const review of reviews) expect(Math.abs(review.createdAt.getTime() - row!.now.getTime())).toBeLessThan(30_000);
  });
});
