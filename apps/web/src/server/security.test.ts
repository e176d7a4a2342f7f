import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, deriveAllowedOrigins, hostAllowed, originAllowed } from "./security";

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
  const local = deriveAllowedOrigins("http://127.0.0.1:3000", "");
  it("lets safe methods through", () => {
    expect(originAllowed("GET", null, "x", allowed)).toBe(true);
  });
  it("accepts our own origin", () => {
    expect(originAllowed("POST", "https://rcmnet.example", "rcmnet.example", allowed)).toBe(true);
    // Behind a proxy that passes its upstream's address as Host.
    expect(originAllowed("POST", "https://rcmnet.example", "127.0.0.1:3000", allowed)).toBe(true);
    expect(originAllowed("POST", "http://127.0.0.1:3000", "127.0.0.1:3000", local)).toBe(true);
    expect(originAllowed("POST", "http://localhost:3000", "localhost:3000", local)).toBe(true);
  });
  it("refuses foreign, missing and opaque origins", () => {
    expect(originAllowed("POST", "https://evil.example", "127.0.0.1:3000", allowed)).toBe(false);
    expect(originAllowed("POST", null, "127.0.0.1:3000", allowed)).toBe(false);
    expect(originAllowed("DELETE", "null", "127.0.0.1:3000", allowed)).toBe(false);
    expect(originAllowed("POST", "not a url", "127.0.0.1:3000", allowed)).toBe(false);
    expect(originAllowed("POST", "http://127.0.0.1:3001", "127.0.0.1:3000", local)).toBe(false);
  });
  it("refuses an Origin that merely equals the Host header (DNS rebinding: the attacker names both)", () => {
    expect(originAllowed("POST", "http://x.attacker:3000", "x.attacker:3000", allowed)).toBe(false);
    expect(originAllowed("POST", "http://x.attacker:3000", "x.attacker:3000", local)).toBe(false);
    // An allowed Origin sent to a foreign Host is refused too.
    expect(originAllowed("POST", "https://rcmnet.example", "x.attacker:3000", allowed)).toBe(false);
  });
});

describe("allowed origins", () => {
  it("are NEXTAUTH_URL's and WEB_ALLOWED_ORIGINS'; a loopback one brings the other loopback names on its port", () => {
    expect([...deriveAllowedOrigins("https://rcmnet.example/", " https://alias.example ,")]).toEqual(["https://rcmnet.example", "https://alias.example"]);
    expect(deriveAllowedOrigins("http://localhost:3000", "")).toEqual(
      new Set(["http://localhost:3000", "http://127.0.0.1:3000", "http://[::1]:3000"]),
    );
  });
});

describe("host check (DNS rebinding)", () => {
  const allowed = deriveAllowedOrigins("https://rcmnet.example", "https://alias.example:8443,not a url");
  it("takes the allowed origins' host names on any port, and loopback names", () => {
    for (const host of ["rcmnet.example", "rcmnet.example:443", "alias.example:8443", "localhost:3000", "127.0.0.1:3000", "[::1]:3000", "localhost"]) {
      expect(hostAllowed(host, allowed), host).toBe(true);
    }
  });
  it("refuses any other name, and a missing or malformed Host", () => {
    for (const host of ["x.attacker:3000", "x.attacker", "rcmnet.example.attacker", "evil@rcmnet.example", "", null]) {
      expect(hostAllowed(host, allowed), String(host)).toBe(false);
    }
  });
});
