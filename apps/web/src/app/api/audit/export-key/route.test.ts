import { afterEach, describe, expect, it, vi } from "vitest";
import { NextRequest } from "next/server";

vi.mock("server-only", () => ({}));
vi.mock("@/env", () => ({ env: { allowedOrigins: new Set(["http://app.test"]), API_URL: "http://api.test" } }));
let role = "AUDITOR";
vi.mock("@/server/session", () => ({
  sessionFromRequest: async () => ({ uid: "u", login: "u", name: "U", role, apiToken: "t", apiExpiresAt: Date.now() + 60_000, mustChangePassword: false, passwordExpiresAt: null, previousSignInAt: null, failedSignInsBefore: 0 }),
}));

const { GET } = await import("./route");
const FP = "ab".repeat(32);
const PEM = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n";
const ask = (query = "") => GET(new NextRequest(`http://app.test/api/audit/export-key${query}`, { headers: { host: "app.test", "sec-fetch-site": "same-origin" } }));

afterEach(() => {
  vi.unstubAllGlobals();
  role = "AUDITOR";
});

describe("GET /api/audit/export-key", () => {
  it("passes the API's key on, and as a PEM file to download", async () => {
    const upstream = vi.fn(async () => Response.json({ algorithm: "ed25519", fingerprint: FP, publicKey: PEM, recordedSeq: "12" }));
    vi.stubGlobal("fetch", upstream);
    const res = await ask();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ algorithm: "ed25519", fingerprint: FP, publicKey: PEM, recordedSeq: "12" });
    expect(upstream).toHaveBeenCalledWith("http://api.test/audit/export-key", expect.objectContaining({ headers: { authorization: "Bearer t" } }));
    const file = await ask("?download=1");
    expect(file.headers.get("content-disposition")).toBe(`attachment; filename="rcmnet-audit-export-key-${FP.slice(0, 12)}.pem"`);
    expect(await file.text()).toBe(PEM);
  });

  it("refuses roles that do not read the trail before asking the API, and passes on the API's refusal", async () => {
    const upstream = vi.fn(async () => Response.json({ errors: [{ message: "no", extensions: { code: "FORBIDDEN" } }] }, { status: 403 }));
    vi.stubGlobal("fetch", upstream);
    role = "TECHNICIAN";
    expect((await ask()).status).toBe(403);
    expect(upstream).not.toHaveBeenCalled();
    role = "ADMIN";
    expect((await ask()).status).toBe(403);
    expect(upstream).toHaveBeenCalledTimes(1);
  });

  it("never passes on as a key what is not one (an API failing, or answering something else)", async () => {
    for (const answer of [new Response("boom", { status: 503 }), Response.json({ fingerprint: "x", publicKey: "not a key" })]) {
      vi.stubGlobal("fetch", vi.fn(async () => answer));
      const res = await ask("?download=1");
      expect(res.status).toBe(502);
      expect(await res.text()).toMatch(/could not give the export key/);
    }
  });
});
