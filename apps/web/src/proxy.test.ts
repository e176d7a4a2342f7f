// The proxy's first check: a request must name this app (DNS rebinding), prefetch headers or not.
import { describe, expect, it, vi } from "vitest";
import { NextRequest } from "next/server";

vi.mock("server-only", () => ({}));
vi.mock("@/env", () => ({ env: { allowedOrigins: new Set(["http://app.test"]), NODE_ENV: "test", secureCookies: false } }));
vi.mock("@/server/session", () => ({ sessionFromRequest: async (r: NextRequest) => (r.headers.get("x-test-role") ? { role: r.headers.get("x-test-role") } : null) }));

const { proxy, config } = await import("./proxy");

function req(path: string, method: string, headers: Record<string, string>) {
  return new NextRequest(`http://app.test${path}`, { method, headers });
}

describe("proxy", () => {
  it("refuses every request naming another host: pages, route handlers, the sign-in, prefetches", async () => {
    const attacker = { host: "x.attacker:3000", origin: "http://x.attacker:3000" };
    const cases: [string, string, Record<string, string>][] = [
      ["/api/auth/csrf", "GET", {}],
      ["/api/auth/callback/credentials", "POST", {}],
      ["/api/auth/callback/credentials", "POST", { purpose: "prefetch" }],
      ["/api/graphql", "POST", { "next-router-prefetch": "1" }],
      ["/login", "GET", {}],
      ["/cases", "GET", { "x-test-role": "HEMATOLOGIST" }],
      ["/cases", "GET", { "next-router-prefetch": "1", "x-test-role": "HEMATOLOGIST" }],
    ];
    for (const [path, method, headers] of cases) {
      const res = await proxy(req(path, method, { ...attacker, ...headers }));
      expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(421);
      expect(((await res.json()) as { errors: { message: string }[] }).errors[0]?.message).toMatch(/does not answer to that host name/);
    }
  });

  it("lets the app's own and loopback names through", async () => {
    for (const host of ["app.test", "127.0.0.1:3000", "localhost:3000"]) {
      const res = await proxy(req("/api/auth/csrf", "GET", { host }));
      expect(res.headers.get("x-middleware-next"), host).toBe("1");
    }
    expect((await proxy(req("/api/auth/callback/credentials", "POST", { host: "app.test", origin: "http://app.test" }))).headers.get("x-middleware-next")).toBe("1");
    // A foreign Origin on our own Host: the CSRF check, as before.
    expect((await proxy(req("/api/auth/callback/credentials", "POST", { host: "app.test", origin: "http://x.attacker:3000" }))).status).toBe(403);
  });

  it("is not skipped for requests carrying prefetch headers (they would skip the Host check)", () => {
    for (const m of config.matcher) expect(m).not.toHaveProperty("missing");
    const source = new RegExp(`^${config.matcher[0]!.source}$`);
    for (const path of ["/api/auth/callback/credentials", "/api/graphql", "/login", "/cases/1"]) expect(source.test(path), path).toBe(true);
  });
});
