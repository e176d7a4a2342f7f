// DNS rebinding: only the server's own names pass (loopback, configured ones); a page on another
// site rebound to this machine sends its own name and is refused.
import { describe, expect, it } from "vitest";
import { hostAllowed, parseHost, parseHostRules } from "./hostCheck.ts";

describe("hostAllowed", () => {
  const none = parseHostRules([]);
  it("takes loopback names on any port, however written", () => {
    for (const host of ["localhost", "localhost:4000", "127.0.0.1:4000", "127.0.0.1", "[::1]:4000", "[0:0:0:0:0:0:0:1]:3000", "LOCALHOST:4000", "localhost.:4000"]) {
      expect(hostAllowed(host, none), host).toBe(true);
    }
  });

  it("refuses any other name, and a missing or malformed header", () => {
    for (const host of ["x.attacker:4000", "x.attacker", "localhost.attacker:4000", "127.0.0.1.attacker", "evil@127.0.0.1", "127.0.0.1/x", "127.0.0.1 :4000", "localhost:", "", null, undefined]) {
      expect(hostAllowed(host, none), String(host)).toBe(false);
    }
  });

  it("takes configured names, on their port where one is given", () => {
    const rules = parseHostRules(["api.internal:4000", " rcmnet.example ", "rcmnet_api"]);
    expect(hostAllowed("api.internal:4000", rules)).toBe(true);
    expect(hostAllowed("API.internal:4000", rules)).toBe(true);
    expect(hostAllowed("api.internal:4001", rules)).toBe(false);
    expect(hostAllowed("api.internal", rules)).toBe(false);
    expect(hostAllowed("rcmnet.example", rules)).toBe(true);
    expect(hostAllowed("rcmnet.example:8443", rules)).toBe(true);
    expect(hostAllowed("rcmnet_api:4000", rules)).toBe(true);
    expect(hostAllowed("x.attacker:4000", rules)).toBe(false);
  });

  it("refuses a configuration entry that is not a host[:port]", () => {
    for (const bad of ["http://api.internal", "api.internal/x", "user@api", "api:port", "::1"]) {
      expect(() => parseHostRules([bad]), bad).toThrow(/not a host name or host:port/);
    }
    expect(parseHostRules(["", " "])).toEqual([]);
    expect(parseHost("[::1]:4000")).toEqual({ hostname: "[::1]", port: "4000" });
  });
});
