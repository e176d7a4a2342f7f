import { afterEach, describe, expect, it, vi } from "vitest";
import { NextRequest } from "next/server";

vi.mock("server-only", () => ({}));
vi.mock("@/env", () => ({ env: { allowedOrigins: new Set(["http://app.test"]), API_URL: "http://api.test" } }));
vi.mock("@/server/session", () => ({
  sessionFromRequest: async () => ({ uid: "u", login: "u", name: "U", role: "AUDITOR", apiToken: "t", apiExpiresAt: Date.now() + 60_000, mustChangePassword: false, passwordExpiresAt: null, previousSignInAt: null, failedSignInsBefore: 0 }),
}));

const { GET } = await import("./route");

afterEach(() => vi.unstubAllGlobals());

describe("GET /api/audit.csv", () => {
  it("answers the API's 400 for a bad filter instead of exporting the trail without it", async () => {
    const upstream = vi.fn(async (url: string) =>
      url.includes("/audit.csv")
        ? new Response('{"errors":[{"message":"from is not a date","extensions":{"code":"BAD_USER_INPUT"}}]}', { status: 400, headers: { "content-type": "application/json" } })
        : new Response('{"data":{"auditTrail":{"nodes":[],"pageInfo":{"endCursor":null,"hasNextPage":false}}}}', { headers: { "content-type": "application/json" } }),
    );
    vi.stubGlobal("fetch", upstream);
    const res = await GET(new NextRequest("http://app.test/api/audit.csv?from=notadate", { headers: { host: "app.test", "sec-fetch-site": "same-origin" } }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe("BAD_USER_INPUT");
    expect(upstream).toHaveBeenCalledTimes(1);
  });

  it("streams the API's CSV with every filter passed on, and fails clearly rather than exporting anything else", async () => {
    const csv = "seq,at\n1,2026-01-01\n";
    const upstream = vi.fn(async () => new Response(csv, { headers: { "content-type": "text/csv; charset=utf-8" } }));
    vi.stubGlobal("fetch", upstream);
    const ok = await GET(new NextRequest("http://app.test/api/audit.csv?actorId=abc&action=case.", { headers: { host: "app.test", "sec-fetch-site": "same-origin" } }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-disposition")).toMatch(/attachment; filename="audit-trail-/);
    expect(await ok.text()).toBe(csv);
    expect(upstream).toHaveBeenCalledWith("http://api.test/audit.csv?actorId=abc&action=case.", expect.anything());

    vi.stubGlobal("fetch", vi.fn(async () => new Response("boom", { status: 500 })));
    const failed = await GET(new NextRequest("http://app.test/api/audit.csv", { headers: { host: "app.test", "sec-fetch-site": "same-origin" } }));
    expect(failed.status).toBe(502);
    expect(await failed.text()).toMatch(/no export was made/);

    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("fetch failed"))));
    expect((await GET(new NextRequest("http://app.test/api/audit.csv", { headers: { host: "app.test", "sec-fetch-site": "same-origin" } }))).status).toBe(502);
  });

  it("passes the request's cancellation on to the API, which records no export for a client gone before it sent anything", async () => {
    let upstreamSignal: AbortSignal | null | undefined;
    let asked!: () => void;
    const reached = new Promise<void>((resolve) => (asked = resolve));
    // The API still verifying the chain: no answer until the request is aborted.
    const upstream = vi.fn(
      (_url: string, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          upstreamSignal = init?.signal;
          asked();
          init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
    );
    vi.stubGlobal("fetch", upstream);
    const client = new AbortController();
    const answer = GET(new NextRequest("http://app.test/api/audit.csv", { headers: { host: "app.test", "sec-fetch-site": "same-origin" }, signal: client.signal }));
    await reached;
    expect(upstreamSignal?.aborted).toBe(false);
    client.abort();
    expect(upstreamSignal?.aborted).toBe(true);
    // Nobody reads it, but it is no export either.
    expect((await answer).status).toBe(502);
  });

  it("is not exported for a request that does not say it came from this app (no Sec-Fetch-Site: an older browser on another site's link)", async () => {
    const upstream = vi.fn(async () => new Response("seq,at\n", { headers: { "content-type": "text/csv; charset=utf-8" } }));
    vi.stubGlobal("fetch", upstream);
    const res = await GET(new NextRequest("http://app.test/api/audit.csv", { headers: { host: "app.test" } }));
    expect(res.status).toBe(403);
    expect(upstream).not.toHaveBeenCalled();
    const cross = await GET(new NextRequest("http://app.test/api/audit.csv", { headers: { host: "app.test", "sec-fetch-site": "cross-site" } }));
    expect(cross.status).toBe(403);
  });
});
