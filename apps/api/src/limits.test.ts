// The query cost rule against the real schema: every operation the dashboard sends passes
// (the test reads them from the web app's operations.ts), abusive shapes are refused.
import { createRequire } from "node:module";
import { Kind, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import * as dashboard from "../../web/src/lib/operations.ts";
import { defaultLimits } from "./env.ts";
import { DEFAULT_LIST_SIZE, estimateQueryCost, FIELD_COSTS, LIST_SIZES, queryCostLimit } from "./limits.ts";
import { buildSchema } from "./schema.ts";

// The schema is built by @graphql-tools with graphql's CommonJS build; validate with that same copy.
const { parse, validate } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

let schema: GraphQLSchema;
beforeAll(async () => {
  ({ schema } = await buildSchema());
});

const costOf = (query: string) => {
  const doc = parse(query);
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return estimateQueryCost(schema, doc, op);
};
const refusal = (query: string) => validate(schema, parse(query), [queryCostLimit(defaultLimits.maxQueryCost)]).map((e) => e.message);

describe("query cost limit", () => {
  it("lets every dashboard operation through, with room to spare", () => {
    const ops = (Object.entries(dashboard) as [string, unknown][]).filter((e): e is [string, string] => typeof e[1] === "string" && /^\s*(query|mutation)\b/.test(e[1]));
    expect(ops.length).toBeGreaterThan(20);
    const costs = ops.map(([name, q]) => [name, costOf(q)] as const).sort((a, b) => b[1] - a[1]);
    // Printed so the figure quoted in env.ts can be read off a test run.
    console.info(`heaviest dashboard operations: ${costs.slice(0, 3).map(([n, c]) => `${n} ${c}`).join(", ")}`);
    for (const [name, q] of ops) expect(refusal(q), name).toEqual([]);
    // Every one parses well within the token limit.
    for (const [name, q] of ops) expect(() => parse(q, { maxTokens: defaultLimits.maxQueryTokens / 4 }), name).not.toThrow();
    // Page sizes leave room: the heaviest paged query (a review page of up to 1,000 cells) uses
    // under half the budget; the audit-chain verification and a model comparison cost half or
    // more by design (FIELD_COSTS).
    const paged = costs.filter(([name]) => name !== "VERIFY_AUDIT" && name !== "COMPARE_MODELS");
    expect(paged[0]![1]).toBeLessThan(defaultLimits.maxQueryCost / 2);
  });

  it("multiplies nested pages: literal sizes, defaults, and the maximum for a variable", () => {
    expect(costOf(`{ cases(first: 10) { nodes { id } } }`)).toBe(1 + 10 * 2);
    expect(costOf(`{ cases { nodes { id } } }`)).toBe(1 + 50 * 2);
    expect(costOf(`query Q($n: Int) { cases(first: $n) { nodes { id } } }`)).toBe(1 + 200 * 2);
    // Each case's cell page is a query of its own, priced by FIELD_COSTS.
    expect(costOf(`{ cases(first: 2) { nodes { cells(first: 3) { nodes { id } } } } }`)).toBe(1 + 2 * (1 + 1 + FIELD_COSTS["Case.cells"]!) + 2 * 3 * (1 + 1));
  });

  it("refuses aliased copies of large nested pages that the depth and field limits let through", () => {
    const copy = (i: number) => `c${i}: cases(first: 200) { nodes { cells(first: 1000) { nodes { id label } } } }`;
    const query = `{ ${Array.from({ length: 85 }, (_, i) => copy(i)).join(" ")} }`;
    expect(refusal(query)[0]).toMatch(/too expensive/);
    // One such page is still too much: 200 cases x 1,000 cells.
    expect(refusal(`{ ${copy(0)} }`)[0]).toMatch(/too expensive/);
    expect(refusal(`{ cases(first: 20) { nodes { cells(first: 1000) { nodes { id label } } } } }`)).toEqual([]);
  });

  it("counts fragments where they are spread", () => {
    const frag = `fragment C on Cell { id label }`;
    const once = costOf(`${frag} { cases(first: 5) { nodes { cells(first: 100) { nodes { ...C } } } } }`);
    const twice = costOf(`${frag} { cases(first: 5) { nodes { cells(first: 100) { nodes { ...C ... on Cell { ...C } } } } } }`);
    expect(twice - once).toBe(5 * 100 * 2);
  });

  it("prices large values: signed reports of many cases in one answer are refused", () => {
    expect(refusal(`{ cases(first: 200) { nodes { signOffs { content } } } }`)[0]).toMatch(/too expensive/);
    const aliased = Array.from({ length: 150 }, (_, i) => `c${i}: cases(first: 10) { nodes { signOffs { content } } }`).join(" ");
    expect(refusal(`{ ${aliased} }`)[0]).toMatch(/too expensive/);
    // One case's report (the report page) costs little.
    expect(costOf(`query($id: ID!) { case(id: $id) { signOffs { content } } }`)).toBeLessThan(5_000);
  });

  it("prices resolvers that query per row: aliased pages of them are refused", () => {
    // 150 aliases of 200 cases, each case running its own cell query and count: 60,000 statements.
    const fanOut = Array.from({ length: 150 }, (_, i) => `c${i}: cases(first: 200) { nodes { cells(first: 1) { totalCount } } }`).join(" ");
    expect(refusal(`{ ${fanOut} }`)[0]).toMatch(/too expensive/);
    const counts = Array.from({ length: 190 }, (_, i) => `m${i}: modelVersions(first: 100) { nodes { predictionCount } }`).join(" ");
    expect(refusal(`{ ${counts} }`)[0]).toMatch(/too expensive/);
    // Two model comparisons (each runs both models over the TEST part) are one too many.
    const compare = (i: number) => `c${i}: compareModels(a: "x", b: "y", snapshotId: "z") { testCount }`;
    expect(refusal(`{ ${compare(0)} }`)).toEqual([]);
    expect(refusal(`{ ${compare(0)} ${compare(1)} }`)[0]).toMatch(/too expensive/);
    const signOffs = Array.from({ length: 99 }, (_, i) => `s${i}: cases(first: 200) { nodes { signOffs { id } currentSignOff { id } } }`).join(" ");
    expect(refusal(`{ ${signOffs} }`)[0]).toMatch(/too expensive/);
    const progress = Array.from({ length: 290 }, (_, i) => `p${i}: caseAnalysisProgress(caseId: "x") { total }`).join(" ");
    expect(refusal(`{ ${progress} }`)[0]).toMatch(/too expensive/);
  });

  it("counts an unpaginated list as the rows it is assumed to hold: a cycle through one fans out with every hop", () => {
    // ModelVersion.promotions -> ModelPromotion.modelVersion -> promotions ..., each hop a query
    // per row: 50 aliases nested to the depth limit ran ~24,000 statements at an estimate of ~3,100.
    const nest = (hops: number): string => (hops === 0 ? "id" : `promotions { modelVersion { ${nest(hops - 1)} } }`);
    const cycle = `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: modelVersion(id: "x") { ${nest(5)} }`).join(" ")} }`;
    expect(costOf(cycle)).toBeGreaterThan(defaultLimits.maxQueryCost);
    expect(refusal(cycle)[0]).toMatch(/too expensive/);
    // One hop: what is below the list counts once per assumed row.
    const m = LIST_SIZES["ModelVersion.promotions"]!;
    expect(costOf(`{ modelVersion(id: "x") { promotions { id kind } } }`)).toBe(1 + 1 + FIELD_COSTS["ModelVersion.promotions"]! + m * 2);
    // A list without a size of its own counts the default; a connection's nodes count their page only.
    expect(costOf(`mutation { confirmCells(cells: []) { id } }`)).toBe(1 + DEFAULT_LIST_SIZE);
    expect(costOf(`{ cases(first: 10) { nodes { id } } }`)).toBe(1 + 10 * 2);
  });

  it("allows one full audit-chain verification per request", () => {
    expect(refusal(`{ verifyAuditTrail { ok } }`)).toEqual([]);
    expect(refusal(`{ a: verifyAuditTrail { ok } b: verifyAuditTrail { ok } }`)[0]).toMatch(/too expensive/);
  });
});
