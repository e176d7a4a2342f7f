// The sign-in's own route refuses a foreign Host or Origin itself, whatever the proxy let by.
import { describe, expect, it, vi } from "vitest";
import { NextRequest } from "next/server";

vi.mock("server-only", () => ({}));
vi.mock("@/env", () => ({ env: { allowedOrigins: new Set(["http://app.test"]) } }));
vi.mock("@/auth/options", () => ({ authOptions: {} }));
const handled = vi.fn(async () => new Response("handled"));
vi.mock("next-auth", () => ({ default: () => handled }));

const { GET, POST } = await import("./route");
const context = { params: Promise.resolve({ nextauth: ["callback", "credentials"] }) };

function req(method: string, headers: Record<string, string>) {
  return new NextRequest("http://app.test/api/auth/callback/credentials", { method, headers });
}

describe("NextAuth route", () => {
  it("refuses a sign-in under another site's name (DNS rebinding), prefetch headers or not", async () => {
    for (const extra of [{}, { purpose: "prefetch" }, { "next-router-prefetch": "1" }] as Record<string, string>[]) {
      const headers = { host: "x.attacker:3000", origin: "http://x.attacker:3000", ...extra };
      expect((await POST(req("POST", headers), context)).status).toBe(421);
      expect((await GET(req("GET", headers), context)).status).toBe(421);
    }
    expect((await POST(req("POST", { host: "app.test", origin: "http://x.attacker:3000" }), context)).status).toBe(403);
    expect(handled).not.toHaveBeenCalled();
  });

  it("hands the app's own requests to NextAuth", async () => {
    expect(await (await POST(req("POST", { host: "app.test", origin: "http://app.test" }), context)).text()).toBe("handled");
    expect(await (await GET(req("GET", { host: "localhost:3000" }), context)).text()).toBe("handled");
  });
});
