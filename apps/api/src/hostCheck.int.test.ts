// DNS rebinding: a page at http://x.attacker:4000 whose name was rebound to 127.0.0.1 posts to the
// API as a same-origin page, with its own name in Host. Refused before any handler (no sign-in,
// no rate limit counted), /health included; loopback names and API_ALLOWED_HOSTS pass.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./testing/index.ts";

let api: TestApi;
let login: { login: string; password: string };
beforeAll(async () => {
  api = await createTestApi({ allowedHosts: ["api.internal:4000"] });
  const { user, password } = await api.createUser("ADMIN");
  login = { login: user.login, password };
});
afterAll(() => api?.close());

/** fetch() sets Host from the URL; node:http sends the one a rebound browser would. */
function send(path: string, host: string, body?: unknown): Promise<{ status: number; json: any }> {
  const url = new URL(api.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: url.hostname,
        port: url.port,
        path,
        method: payload ? "POST" : "GET",
        headers: { host, ...(payload ? { "content-type": "application/json", origin: `http://${host}` } : {}) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const LOGIN = `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }`;
const signIn = (host: string) => send("/graphql", host, { query: LOGIN, variables: { l: login.login, p: login.password } });

describe("Host header allowlist (DNS rebinding)", () => {
  it("refuses a sign-in and /health under another site's name, and opens no session", async () => {
    const sessionsBefore = await api.prisma.apiSession.count();
    for (const host of ["x.attacker:4000", "x.attacker", "localhost.attacker:4000", "api.internal:4001"]) {
      const r = await signIn(host);
      expect(r.status, host).toBe(421);
      expect(r.json.errors[0].message).toMatch(/does not answer to that host name/);
      expect(r.json.data).toBeUndefined();
      const health = await send("/health", host);
      expect(health.status, host).toBe(421);
      expect(health.json.status).toBeUndefined();
    }
    expect(await api.prisma.apiSession.count()).toBe(sessionsBefore);
  });

  it("answers under loopback names, on any port, and under API_ALLOWED_HOSTS", async () => {
    for (const host of ["localhost:4000", "127.0.0.1:4000", "[::1]:4000", "localhost", "api.internal:4000"]) {
      const r = await signIn(host);
      expect(r.status, host).toBe(200);
      expect(r.json.data.login.token, host).toEqual(expect.any(String));
      const health = await send("/health", host);
      expect(health.status, host).toBe(200);
      expect(health.json).toEqual({ status: "ok", database: "up" });
    }
  });
});
