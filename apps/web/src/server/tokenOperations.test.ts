import { describe, expect, it } from "vitest";
import * as operations from "@/lib/operations";
import { refuseTokenOperation } from "./tokenOperations";

const body = (query: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ query, ...extra });
const code = (raw: string) => refuseTokenOperation(raw)?.code ?? "forwarded";

describe("refuseTokenOperation", () => {
  it("refuses login, however it is selected", () => {
    const refused = [
      `mutation { login(login: "x", password: "y") { token } }`,
      `mutation { login(login: "x", password: "y") { user { id } } }`,
      `mutation { mine: login(login: "x", password: "y") { t: token } }`,
      `mutation M { ... on Mutation { login(login: "x", password: "y") { token } } }`,
      `mutation { ...Steal } fragment Steal on Mutation { login(login: "x", password: "y") { token } }`,
      `mutation { ...A } fragment A on Mutation { ...B } fragment B on Mutation { login(login: "x", password: "y") { token } }`,
      `mutation { login(login: "x", password: "y") @skip(if: true) { token } }`,
      // Another operation than the one operationName picks is read too.
      `query Q { apiVersion } mutation M { login(login: "x", password: "y") { token } }`,
    ];
    for (const q of refused) expect(code(body(q, { operationName: "Q" })), q).toBe("FORBIDDEN");
  });

  it("refuses changeMyPassword's token and expiry (either opens a session), not its other fields (the dashboard asks for mustChangePassword)", () => {
    const change = `changeMyPassword(currentPassword: "a", newPassword: "b")`;
    for (const q of [
      `mutation { ${change} { token } }`,
      `mutation { c: ${change} { mustChangePassword t: token } }`,
      `mutation { ${change} { ...P } } fragment P on AuthPayload { token }`,
      `mutation { ${change} { ... on AuthPayload { token } } }`,
      `mutation { ...M } fragment M on Mutation { ${change} { ...P } } fragment P on AuthPayload { token }`,
      `mutation { ${change} { expiresAt } }`,
      `mutation { ${change} { mustChangePassword ... on AuthPayload { e: expiresAt } } }`,
    ]) {
      expect(code(body(q)), q).toBe("FORBIDDEN");
    }
    expect(code(body(`mutation { ${change} { mustChangePassword } }`))).toBe("forwarded");
    expect(code(body(`mutation { ${change} { user { id login } passwordExpiresAt } }`))).toBe("forwarded");
  });

  it("refuses what it cannot read, rather than let the API read it otherwise", () => {
    expect(code("not json")).toBe("BAD_USER_INPUT");
    expect(code("")).toBe("BAD_USER_INPUT");
    expect(code(JSON.stringify([{ query: "{ apiVersion }" }]))).toBe("BAD_USER_INPUT");
    expect(code(JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }))).toBe("BAD_USER_INPUT");
    expect(code(body({ kind: "Document" }))).toBe("BAD_USER_INPUT");
    expect(code(body(`mutation { login(login: "x", password: "y") { token }`))).toBe("BAD_USER_INPUT");
    expect(code("null")).toBe("BAD_USER_INPUT");
  });

  it("forwards queries and other mutations, fields named login elsewhere included", () => {
    expect(code(body("{ apiVersion }"))).toBe("forwarded");
    expect(code(body(`{ me { login } }`))).toBe("forwarded");
    expect(code(body(`mutation Logout { logout }`))).toBe("forwarded");
    expect(code(body(`mutation { createUser(input: {}) { id login } }`))).toBe("forwarded");
    // A cycle of fragments (invalid: the API refuses it) does not hang the check.
    expect(code(body(`mutation { ...A } fragment A on Mutation { ...B } fragment B on Mutation { ...A logout }`))).toBe("forwarded");
  });

  it("forwards every operation the dashboard sends", () => {
    const documents = Object.entries(operations as Record<string, unknown>).filter(([, v]) => typeof v === "string" && /^\s*(query|mutation)\b/.test(v));
    expect(documents.length).toBeGreaterThan(20);
    for (const [name, document] of documents) expect(code(body(document, { variables: {} })), name).toBe("forwarded");
  });
});
