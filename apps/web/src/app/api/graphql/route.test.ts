import { afterEach, describe, expect, it, vi } from "vitest";
import { NextRequest } from "next/server";

vi.mock("server-only", () => ({}));
vi.mock("@/env", () => ({ env: { allowedOrigins: new Set(["http://app.test"]), API_URL: "http://api.test" } }));
vi.mock("@/server/session", () => ({
  sessionFromRequest: async () => ({ uid: "u", login: "u", name: "U", role: "TECHNICIAN", apiToken: "t", apiExpiresAt: Date.now() + 60_000, mustChangePassword: false, passwordExpiresAt: null, previousSignInAt: null, failedSignInsBefore: 0 }),
}));

const { POST } = await import("./route");

function post(body: BodyInit) {
  return new NextRequest("http://app.test/api/graphql", {
    method: "POST",
    headers: { host: "app.test", origin: "http://app.test", "content-type": "application/json" },
    body,
    duplex: "half",
  } as unknown as ConstructorParameters<typeof NextRequest>[1]);
}

afterEach(() => vi.unstubAllGlobals());

describe("POST /api/graphql", () => {
  it("answers 413 once the body passes the limit, without reading the rest (an endless body does not hang)", async () => {
    const upstream = vi.fn();
    vi.stubGlobal("fetch", upstream);
    const chunk = new Uint8Array(64 * 1024).fill(32);
    const endless = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(chunk) });
    const res = await Promise.race([POST(post(endless)), new Promise<"hung">((r) => setTimeout(() => r("hung"), 3000))]);
    expect(res).not.toBe("hung");
    expect((res as Response).status).toBe(413);
    expect(upstream).not.toHaveBeenCalled();
  });

  it("passes a normal body through to the API with the session's token", async () => {
    const upstream = vi.fn(async () => new Response('{"data":{"apiVersion":"1"}}', { headers: { "content-type": "application/json" } }));
    vi.stubGlobal("fetch", upstream);
    const body = JSON.stringify({ query: "{ apiVersion }" });
    const res = await POST(post(body));
    expect(res.status).toBe(200);
    expect(upstream).toHaveBeenCalledOnce();
    const [, init] = upstream.mock.calls[0] as unknown as [string, RequestInit];
    expect(init.body).toBe(body);
    expect((init.headers as Record<string, string>).authorization).toBe("Bearer t");
  });

  it("refuses an operation that answers an API token, forwarding nothing (the token stays server-side)", async () => {
    const upstream = vi.fn();
    vi.stubGlobal("fetch", upstream);
    for (const query of [`mutation { me: login(login: "x", password: "y") { token } }`, `mutation { changeMyPassword(currentPassword: "a", newPassword: "b") { token } }`]) {
      const res = await POST(post(JSON.stringify({ query })));
      expect(res.status).toBe(403);
      expect((await res.json()).errors[0].extensions.code).toBe("FORBIDDEN");
    }
    const unreadable = await POST(post(JSON.stringify({ query: "mutation { login(" })));
    expect(unreadable.status).toBe(400);
    expect((await unreadable.json()).errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(upstream).not.toHaveBeenCalled();
  });
});
