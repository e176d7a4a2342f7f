import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, originAllowed } from "./security";

describe("content security policy", () => {
  it("allows no external source and forbids framing", () => {
    const csp = contentSecurityPolicy("abc", false);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self' 'nonce-abc' 'strict-dynamic'");
    expect(csp).not.toMatch(/https?:/);
    expect(csp).not.toContain("unsafe-eval");
    expect(contentSecurityPolicy("abc", true)).toContain("'unsafe-eval'");
  });
});

describe("origin check", () => {
  const allowed = new Set(["https://rcmnet.example"]);
  it("lets safe methods through", () => {
    expect(originAllowed("GET", null, "x", allowed)).toBe(true);
  });
  it("accepts our own origin", () => {
    expect(originAllowed("POST", "https://rcmnet.example", "other:1", allowed)).toBe(true);
    expect(originAllowed("POST", "http://127.0.0.1:3000", "127.0.0.1:3000", allowed)).toBe(true);
  });
  it("refuses foreign, missing and opaque origins", () => {
    expect(originAllowed("POST", "https://evil.example", "127.0.0.1:3000", allowed)).toBe(false);
    expect(originAllowed("POST", null, "127.0.0.1:3000", allowed)).toBe(false);
    expect(originAllowed("DELETE", "null", "127.0.0.1:3000", allowed)).toBe(false);
    expect(originAllowed("POST", "not a url", "127.0.0.1:3000", allowed)).toBe(false);
    expect(originAllowed("POST", "http://127.0.0.1:3001", "127.0.0.1:3000", allowed)).toBe(false);
  });
});
