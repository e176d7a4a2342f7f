// The role matrix: EVERY mutation of the schema, run as every role, anonymously, and with
// expired, forged, revoked and mistyped tokens. A refusal must be a clear error with the right
// code (never a 500) and leave the database exactly as it was (fingerprint of every table).
// Roles the policy allows must get past authorization (whatever the dummy input then causes).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "@rcmnet/db";
import { buildSchema, moduleNames, modulesDir } from "./schema.ts";
import { ALL_ROLES } from "./auth/roles.ts";
import { issueToken, AUDIENCE, ISSUER } from "./auth/tokens.ts";
import type { Policy } from "./auth/policy.ts";
import { createTestApi, type TestApi } from "./testing/index.ts";
import { databaseFingerprint, seedReviewableCase } from "./testing/fixtures.ts";
import type { MatrixCase, MatrixFixture } from "./testing/roleMatrix.ts";

const UUID = "00000000-0000-4000-8000-00000000dead";

/** The API core's mutations; other modules add theirs in src/modules/<name>/roleMatrix.ts. */
const CORE: MatrixCase[] = [
  { mutation: "_noop", query: `mutation { _noop }`, variables: () => ({}) },
  {
    mutation: "changeMyPassword",
    query: `mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) { token } }`,
    variables: () => ({ c: "definitely wrong", n: "another long password" }),
  },
  {
    mutation: "createCase",
    query: `mutation($i: CreateCaseInput!) { createCase(input: $i) { id } }`,
    variables: () => ({ i: { accession: `RM-${Math.random().toString(36).slice(2, 10)}` } }),
  },
  {
    mutation: "updateCase",
    query: `mutation($i: UpdateCaseInput!) { updateCase(input: $i) { id } }`,
    variables: (fx) => ({ i: { id: fx.caseId, priority: "URGENT", expectedUpdatedAt: new Date().toISOString(), reason: "clinician called" } }),
  },
  {
    mutation: "reclassifyCell",
    query: `mutation($i: ReclassifyCellInput!) { reclassifyCell(input: $i) { id } }`,
    variables: (fx) => ({ i: { cellId: fx.cellId, expectedReviewCount: 99, expectedLabel: "car_t", label: "artifact", reason: "debris" } }),
  },
  {
    mutation: "confirmCells",
    query: `mutation($c: [ConfirmCellInput!]!) { confirmCells(cells: $c) { id } }`,
    variables: (fx) => ({ c: [{ cellId: fx.cellId, expectedReviewCount: 99, expectedLabel: "car_t" }] }),
  },
  {
    mutation: "signOffCase",
    query: `mutation($i: SignOffCaseInput!) { signOffCase(input: $i) { id } }`,
    variables: (fx) => ({ i: { caseId: fx.caseId, login: "someone", password: "wrong password", meaning: "Reviewed and approved", seenCells: 2, seenDecisions: 0, seenCaseUpdatedAt: new Date().toISOString() } }),
  },
  {
    mutation: "amendCase",
    query: `mutation($i: AmendCaseInput!) { amendCase(input: $i) { id } }`,
    variables: (fx) => ({ i: { caseId: fx.caseId, reason: "matrix", expectedReportVersion: 1 } }),
  },
  {
    mutation: "createUser",
    query: `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`,
    variables: () => ({ i: { login: `rm${Math.random().toString(36).slice(2, 10)}`, displayName: "Matrix User", role: "AUDITOR", password: "long enough password", reason: "matrix test" } }),
  },
  {
    mutation: "setUserDisabled",
    query: `mutation($id: ID!) { setUserDisabled(id: $id, disabled: true, reason: "matrix test") { id } }`,
    variables: (fx) => ({ id: fx.targetUserId }),
  },
  {
    mutation: "resetUserPassword",
    query: `mutation($id: ID!) { resetUserPassword(id: $id, newPassword: "a new long password", reason: "matrix test") { id } }`,
    variables: (fx) => ({ id: fx.targetUserId }),
  },
  {
    mutation: "changeUserRole",
    query: `mutation($id: ID!) { changeUserRole(id: $id, role: TECHNICIAN, reason: "matrix test") { id } }`,
    variables: (fx) => ({ id: fx.targetUserId }),
  },
  {
    mutation: "unlockUser",
    query: `mutation($id: ID!) { unlockUser(id: $id, reason: "matrix test") { id } }`,
    variables: (fx) => ({ id: fx.targetUserId }),
  },
];

async function moduleCases(): Promise<MatrixCase[]> {
  const out: MatrixCase[] = [];
  for (const name of moduleNames()) {
    const file = join(modulesDir, name, "roleMatrix.ts");
    if (existsSync(file)) out.push(...((await import(pathToFileURL(file).href)) as { matrixCases: MatrixCase[] }).matrixCases);
  }
  return out;
}

let api: TestApi;
let policy: Policy;
let mutations: string[];
let cases: MatrixCase[];
let fx: MatrixFixture;
const roleTokens = new Map<Role, string>();
const badTokens: [string, string | null][] = [];

beforeAll(async () => {
  api = await createTestApi();
  const built = await buildSchema();
  policy = built.policy;
  mutations = Object.keys(built.schema.getMutationType()!.getFields());
  // logout last: it revokes the token it is sent with, which the cases after it would need.
  cases = [...CORE, ...(await moduleCases()), { mutation: "logout", query: `mutation { logout }`, variables: () => ({}) }];
  for (const role of ALL_ROLES) roleTokens.set(role, await api.loginAs(role));

  const tech = await api.createUser("TECHNICIAN");
  const { kase, slideId, cellIds } = await seedReviewableCase(api.prisma, { createdById: tech.user.id, cells: 2 });
  const target = await api.createUser("AUDITOR");
  fx = { caseId: kase.id, cellId: cellIds[0]!, slideId, signOffId: UUID, targetUserId: target.user.id, missingId: UUID };

  const admin = await api.createUser("ADMIN");
  const claims = { sub: admin.user.id, role: "ADMIN" as const, login: admin.user.login, pwv: admin.user.passwordChangedAt.getTime() };
  badTokens.push(["anonymous", null]);
  badTokens.push(["expired", (await issueToken(api.env.authSecret, claims, -60)).token]);
  badTokens.push(["forged (wrong key)", (await issueToken("an-attacker-secret-an-attacker-secret-xx", claims, 3600)).token]);
  badTokens.push(["unknown role claim", (await issueToken(api.env.authSecret, { ...claims, role: "SUPERUSER" as never }, 3600)).token]);
  const noRole = await new SignJWT({ login: claims.login, pwv: claims.pwv })
    .setProtectedHeader({ alg: "HS256" }).setSubject(claims.sub).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime("1h")
    .sign(new TextEncoder().encode(api.env.authSecret));
  badTokens.push(["missing role claim", noRole]);
  badTokens.push(["not a JWT", "not-a-token"]);
  const disabled = await api.createUser("ADMIN");
  const disabledToken = await api.login(disabled.user.login, disabled.password);
  await api.prisma.user.update({ where: { id: disabled.user.id }, data: { disabled: true } });
  badTokens.push(["disabled user", disabledToken]);
}, 60_000);
afterAll(() => api?.close());

describe("role matrix", () => {
  it("has a case for every mutation of the schema", () => {
    const covered = new Set(cases.map((c) => c.mutation));
    const missing = mutations.filter((m) => m !== "login" && !covered.has(m));
    expect(missing, "add these to a roleMatrix.ts").toEqual([]);
  });

  it("refuses every mutation to every principal the policy does not allow, changing nothing", async () => {
    let refusals = 0;
    for (const c of cases) {
      const rule = policy[`Mutation.${c.mutation}`];
      expect(rule, c.mutation).toBeDefined();
      const allowed = rule === "PUBLIC" ? ALL_ROLES : rule!;
      const before = await databaseFingerprint(api.prisma);
      for (const [name, token] of badTokens) {
        const r = await api.gql(token, c.query, c.variables(fx));
        expect(r.status, `${c.mutation} as ${name}`).not.toBe(500);
        expect(r.errors?.[0]?.extensions?.code, `${c.mutation} as ${name}`).toBe("UNAUTHENTICATED");
        expect(JSON.stringify(r), `${c.mutation} as ${name}`).not.toMatch(/stack|at .*\.ts:|SELECT|prisma/i);
        refusals++;
      }
      for (const role of ALL_ROLES.filter((r) => !allowed.includes(r))) {
        const r = await api.gql(roleTokens.get(role)!, c.query, c.variables(fx));
        expect(r.errors?.[0]?.extensions?.code, `${c.mutation} as ${role}`).toBe("FORBIDDEN");
        expect(r.errors?.[0]?.extensions?.operation, `${c.mutation} as ${role}`).toBe(`Mutation.${c.mutation}`);
        expect(r.data?.[c.mutation] ?? null).toBeNull();
        refusals++;
      }
      expect(await databaseFingerprint(api.prisma), `database changed by refused ${c.mutation}`).toEqual(before);
    }
    expect(refusals).toBeGreaterThan(80);
  });

  it("lets every allowed role past authorization (no 500 either)", async () => {
    for (const c of cases) {
      const rule = policy[`Mutation.${c.mutation}`]!;
      const allowed = rule === "PUBLIC" ? ALL_ROLES : rule;
      for (const role of allowed) {
        const r = await api.gql(roleTokens.get(role)!, c.query, c.variables(fx));
        expect(r.status, `${c.mutation} as ${role}`).not.toBe(500);
        for (const e of r.errors ?? []) {
          expect(e.extensions?.operation, `${c.mutation} as ${role}: ${e.message}`).toBeUndefined();
          expect(e.extensions?.code, `${c.mutation} as ${role}: ${e.message}`).not.toBe("INTERNAL_SERVER_ERROR");
        }
      }
    }
  });
});
