import { describe, expect, it, vi } from "vitest";
import { NextRequest } from "next/server";

vi.mock("server-only", () => ({}));
vi.mock("@/env", () => ({ env: { allowedOrigins: new Set(["http://app.test"]) } }));
vi.mock("./session", () => ({
  sessionFromRequest: async (r: NextRequest) =>
    r.headers.get("x-test-role") ? { uid: "u", login: "u", name: "U", role: r.headers.get("x-test-role"), apiToken: "t" } : null,
}));

const { requireRoute } = await import("./routeAuth");

function req(method: string, headers: Record<string, string>) {
  return new NextRequest("http://app.test/api/graphql", { method, headers: { host: "app.test", ...headers } });
}

describe("requireRoute", () => {
  it("refuses a request naming another host (DNS rebinding), even with a matching Origin and a session", async () => {
    for (const host of ["x.attacker:3000", "x.attacker"]) {
      const post = await requireRoute(req("POST", { host, origin: `http://${host}`, "x-test-role": "TECHNICIAN" }), "upload");
      expect(post.denied?.status, host).toBe(421);
      const get = await requireRoute(req("GET", { host, "sec-fetch-site": "same-origin", "x-test-role": "AUDITOR" }), "audit");
      expect(get.denied?.status, host).toBe(421);
    }
    // Loopback names reach the same server: not refused for their Host (the Origin decides).
    expect((await requireRoute(req("GET", { host: "127.0.0.1:3000", "x-test-role": "AUDITOR" }), "audit")).session).toBeTruthy();
    expect((await requireRoute(req("GET", { host: "localhost:3000", "x-test-role": "AUDITOR" }), "audit")).session).toBeTruthy();
  });
  it("refuses a cross-origin or Origin-less POST even with a valid session (proxy skipped on prefetch headers)", async () => {
    const cases: Record<string, string>[] = [{ origin: "https://evil.example" }, {}, { origin: "null" }];
    for (const h of cases) {
      const r = await requireRoute(req("POST", { ...h, purpose: "prefetch", "x-test-role": "TECHNICIAN" }), "upload");
      expect(r.denied?.status).toBe(403);
    }
  });
  it("refuses a GET another site started (a link to the audit export fired in the auditor's name)", async () => {
    for (const site of ["cross-site", "same-site"]) {
      const r = await requireRoute(req("GET", { "sec-fetch-site": site, "x-test-role": "AUDITOR" }), "audit");
      expect(r.denied?.status, site).toBe(403);
    }
    // From the app's own page, or typed into the address bar.
    for (const site of ["same-origin", "none"]) {
      expect((await requireRoute(req("GET", { "sec-fetch-site": site, "x-test-role": "AUDITOR" }), "audit")).session, site).toBeTruthy();
    }
  });
  it("allows same-origin POSTs and GETs; still checks session and role", async () => {
    expect((await requireRoute(req("POST", { origin: "http://app.test", "x-test-role": "TECHNICIAN" }), "upload")).session).toBeTruthy();
    expect((await requireRoute(req("GET", { "x-test-role": "AUDITOR" }), "audit")).session).toBeTruthy();
    expect((await requireRoute(req("POST", { origin: "http://app.test" }))).denied?.status).toBe(401);
    expect((await requireRoute(req("POST", { origin: "http://app.test", "x-test-role": "AUDITOR" }), "upload")).denied?.status).toBe(403);
    expect((await requireRoute(req("GET", { "x-test-role": "BOGUS" }), "audit")).denied?.status).toBe(403);
  });
});
