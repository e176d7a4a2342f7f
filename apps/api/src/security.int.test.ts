// Request limits and error hygiene: malformed, oversized or abusive requests get a clear
// BAD_USER_INPUT / RATE_LIMITED answer, never a 500, a stack trace or SQL text.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./testing/index.ts";
import { createLogger } from "./log.ts";

let api: TestApi;
let hema: string;
beforeAll(async () => {
  api = await createTestApi({ limits: { maxBodyBytes: 20_000, maxQueryDepth: 6, maxQueryFields: 50, loginAttemptsPerMinute: 5 } });
  hema = await api.loginAs("HEMATOLOGIST");
});
afterAll(() => api?.close());

const noLeak = (body: unknown) => expect(JSON.stringify(body)).not.toMatch(/stacktrace|\.ts:\d|node_modules|SELECT |prisma/i);

describe("limits and error hygiene", () => {
  it("refuses queries deeper than the limit", async () => {
    const deep = `{ cases { nodes { slides { uploadedBy { id } } createdBy { id } cells { nodes { slide { uploadedBy { id } } } } } } }`;
    const r = await api.gql(hema, deep);
    expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(r.errors?.[0]?.message).toMatch(/too deep/);
    noLeak(r);
  });

  it("refuses queries selecting too many fields (aliases and fragments counted)", async () => {
    const aliases = Array.from({ length: 60 }, (_, i) => `a${i}: apiVersion`).join(" ");
    const r = await api.gql(hema, `{ ${aliases} }`);
    expect(r.errors?.[0]?.message).toMatch(/too many fields/);
    const frag = `fragment F on Case { id accession status priority } { cases { nodes { ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F } } }`;
    expect((await api.gql(hema, frag)).errors?.[0]?.message).toMatch(/too many fields/);
  });

  it("refuses queries whose nested pages multiply past the cost limit, before touching the database", async () => {
    const r = await api.gql(hema, `{ cases(first: 200) { nodes { cells(first: 1000) { nodes { id label } } } } }`);
    expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(r.errors?.[0]?.message).toMatch(/too expensive/);
    expect(r.data).toBeUndefined();
    noLeak(r);
    expect((await api.gql(hema, `{ cases(first: 20) { nodes { cells(first: 1000) { nodes { id } } } } }`)).errors).toBeUndefined();
  });

  it("refuses a query of more tokens than the limit while parsing it", async () => {
    // 10 KB, under the body limit; refused before any field is looked up.
    const r = await api.gql(hema, `{ ${"x ".repeat(5_100)}}`);
    expect(r.errors?.[0]?.message).toMatch(/Document contains more th[ae][nt] 5000 tokens/) // graphql-js writes "more that";
    expect(r.data).toBeUndefined();
    noLeak(r);
  });

  it("in production, serves no introspection and no schema hints in validation errors", async () => {
    const prod = await createTestApi({ nodeEnv: "production" });
    try {
      const token = await prod.loginAs("HEMATOLOGIST");
      expect((await prod.gql(token, `{ __schema { types { name } } }`)).errors?.[0]?.message).toMatch(/introspection/i);
      const typo = await prod.gql(token, `{ casess { nodes { id } } }`);
      expect(typo.errors?.[0]?.message).toBeTruthy();
      expect(typo.errors?.[0]?.message).not.toMatch(/Did you mean|"cases"/);
      // Nor do the errors of variables and enum values.
      const badVariable = await prod.gql(token, `mutation($i: CreateCaseInput!) { createCase(input: $i) { id } }`, { i: { accession: "PROD-1", wbcCnt: 4 } });
      expect(badVariable.errors?.[0]?.message).toMatch(/wbcCnt/);
      expect(badVariable.errors?.[0]?.message).not.toMatch(/Did you mean|wbcCount/);
      const badEnum = await prod.gql(token, `{ cases(filter: { priority: [STATT] }) { nodes { id } } }`);
      expect(badEnum.errors?.[0]?.message).not.toMatch(/Did you mean|"STAT"/);
      // The test API (not production) still helps a developer.
      expect((await api.gql(hema, `{ casess { nodes { id } } }`)).errors?.[0]?.message).toMatch(/Did you mean "cases"/);
    } finally {
      await prod.close();
    }
  });

  it("refuses oversized and malformed bodies with a JSON error", async () => {
    const big = await api.fetch("/graphql", {
      method: "POST",
      token: hema,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: `{ apiVersion }`, variables: { pad: "x".repeat(30_000) } }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).errors[0].extensions.code).toBe("BAD_USER_INPUT");
    const bad = await api.fetch("/graphql", { method: "POST", token: hema, headers: { "content-type": "application/json" }, body: "{not json" });
    expect(bad.status).toBe(400);
    const body = await bad.json();
    noLeak(body);
    const syntax = await api.gql(hema, `{ cases { `);
    expect(syntax.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const unknownField = await api.gql(hema, `{ secrets }`);
    expect(unknownField.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("answers ids that are not uuids with NOT_FOUND, not a SQL error", async () => {
    for (const id of ["1", "' OR 1=1 --", "00000000-0000-0000-0000-00000000000Z"]) {
      const r = await api.gql(hema, `query($id: ID!) { case(id: $id) { id } }`, { id });
      expect(r.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      noLeak(r);
    }
  });

  it("rate-limits sign-in attempts per client address", async () => {
    const codes: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await api.gql(null, `mutation { login(login: "nobody${i}", password: "whatever it is") { token } }`);
      codes.push(String(r.errors?.[0]?.extensions?.code));
    }
    // hema's own login above used one attempt of the 5 per minute.
    expect(codes.slice(0, 4)).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED"]);
    expect(codes.slice(4)).toEqual(["RATE_LIMITED", "RATE_LIMITED", "RATE_LIMITED"]);
  });

  it("rate-limits requests per user, whatever the number of sessions, leaving other users and the data untouched", async () => {
    const limited = await createTestApi({ limits: { requestsPerTokenPerMinute: 3 } });
    try {
      const tech = await limited.createUser("TECHNICIAN");
      const a = await limited.login(tech.user.login, tech.password);
      const b = await limited.loginAs("HEMATOLOGIST");
      const create = `mutation($i: CreateCaseInput!) { createCase(input: $i) { id } }`;
      for (let i = 0; i < 3; i++) expect((await limited.gql(a, `{ apiVersion }`)).errors).toBeUndefined();
      const refused = await limited.gql(a, create, { i: { accession: "RL-1" } });
      expect(refused.status).toBe(429);
      expect(refused.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      expect((await limited.fetch("/blobs/" + "0".repeat(64), { token: a })).status).toBe(429);
      expect(await limited.prisma.case.count({ where: { accession: "RL-1" } })).toBe(0);
      expect((await limited.gql(b, `{ apiVersion }`)).errors).toBeUndefined();
      // Signing in again is a new token, not a new allowance.
      const again = await limited.login(tech.user.login, tech.password);
      expect((await limited.gql(again, `{ apiVersion }`)).status).toBe(429);
      // (A token that no longer authenticates does not use the allowance: the next test.)
    } finally {
      await limited.close();
    }
  });

  it("does not charge a user's allowance for a token that no longer authenticates (signed out)", async () => {
    const limited = await createTestApi({ limits: { requestsPerTokenPerMinute: 3 } });
    try {
      const tech = await limited.createUser("TECHNICIAN");
      const old = await limited.login(tech.user.login, tech.password);
      const live = await limited.login(tech.user.login, tech.password);
      expect((await limited.gqlOk(old, `mutation { logout }`)).logout).toBe(true); // one request of the user's 3
      // A copy of the signed-out token, replayed: refused, and only its own allowance is used up.
      for (let i = 0; i < 5; i++) expect([401, 200, 429]).toContain((await limited.gql(old, `{ apiVersion }`)).status);
      expect((await limited.gql(old, `{ apiVersion }`)).status).toBe(429);
      for (let i = 0; i < 2; i++) expect((await limited.gql(live, `{ apiVersion }`)).errors).toBeUndefined();
      expect((await limited.gql(live, `{ apiVersion }`)).status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it("keeps patient identifiers out of the logs, including on errors", async () => {
    const lines: string[] = [];
    const logged = await createTestApi({ log: createLogger("debug", (l) => lines.push(l)) });
    try {
      const tech = await logged.loginAs("TECHNICIAN");
      await logged.gqlOk(tech, `mutation { createCase(input: { accession: "LOG-1", patientRef: "MRN-SECRET-4711" }) { id patientRef } }`);
      await logged.gql(tech, `mutation { createCase(input: { accession: "LOG-1", patientRef: "MRN-SECRET-4711" }) { id } }`);
      await logged.gql(tech, `query { cases { nodes { patientRef } } }`);
      expect(lines.length).toBeGreaterThan(3);
      expect(lines.join("\n")).not.toMatch(/MRN-SECRET-4711/);
    } finally {
      await logged.close();
    }
  });

  it("accepts the bearer token only (no cookies)", async () => {
    const res = await api.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", cookie: `token=${hema}` },
      body: JSON.stringify({ query: `{ me { id } }` }),
    });
    expect(((await res.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });
});
