// The case-review query must cost a bounded number of SQL queries, whatever the number of cells:
// DataLoaders batch predictions, reviews, reviewers and slides per request.
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@rcmnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./testing/index.ts";
import { confirmAsSeen, seedReviewableCase } from "./testing/fixtures.ts";

let api: TestApi;
let queries = 0;
let hema: string;
let techId: string;

beforeAll(async () => {
  api = await createTestApi({
    apiPrisma: (url) => {
      const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 5 }), log: [{ emit: "event", level: "query" }] });
      client.$on("query", () => {
        queries++;
      });
      return client;
    },
  });
  hema = await api.loginAs("HEMATOLOGIST");
  techId = (await api.createUser("TECHNICIAN")).user.id;
});
afterAll(() => api?.close());

const REVIEW_PAGE = `query($id: ID!) { case(id: $id) {
  id accession status cellCount reviewedCount createdBy { displayName }
  slides { id imageUrl width height uploadedBy { login } }
  differential { total counted cartPercent rows { label count percent } }
  signOffs { version }
  cells(first: 1000) { totalCount pageInfo { hasNextPage }
    nodes { id x y width height currentLabel reviewCount humanDecided cropUrl withdrawnInVersion
      slide { id kind }
      prediction { label confidence abstained probabilities modelVersionId modelVersion { id name version } }
      reviews { seq label reason reviewer { displayName } } } } } }`;

async function countQueries(caseId: string): Promise<{ n: number; cells: number }> {
  queries = 0;
  const data = await api.gqlOk(hema, REVIEW_PAGE, { id: caseId });
  return { n: queries, cells: data.case.cells.nodes.length };
}

/** One cell at a time: a bulk confirm refuses the fixture's abstained cells (left unidentified: with a reason). */
async function reviewSome(cellIds: string[]) {
  for (const cellId of cellIds) {
    await api.gqlOk(hema, `mutation($c: [ConfirmCellInput!]!) { confirmCells(cells: $c) { id } }`, { c: await confirmAsSeen(api.prisma, [cellId], { reason: "seen" }) });
  }
}

describe("N+1", () => {
  it("a case with 500 cells costs the same bounded number of queries as one with 20", async () => {
    const small = await seedReviewableCase(api.prisma, { createdById: techId, cells: 20 });
    const large = await seedReviewableCase(api.prisma, { createdById: techId, cells: 500 });
    await reviewSome(small.cellIds.slice(0, 10));
    await reviewSome(large.cellIds.slice(0, 250));
    const s = await countQueries(small.kase.id);
    const l = await countQueries(large.kase.id);
    expect(s.cells).toBe(20);
    expect(l.cells).toBe(500);
    expect(l.n).toBe(s.n);
    expect(l.n).toBeGreaterThan(3); // the counter works
    expect(l.n).toBeLessThanOrEqual(20);
    console.log(`case review query: ${l.n} SQL queries for 500 cells`);
  });

  it("a replayed token whose session ended costs no query after the first refusal", async () => {
    const token = await api.loginAs("TECHNICIAN");
    expect((await api.gqlOk(token, `mutation { logout }`)).logout).toBe(true);
    queries = 0;
    expect((await api.gql(token, `{ me { id } }`)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(queries).toBeGreaterThan(0);
    queries = 0;
    for (let i = 0; i < 5; i++) expect((await api.gql(token, `{ me { id } }`)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(queries).toBe(0);
  });
});
