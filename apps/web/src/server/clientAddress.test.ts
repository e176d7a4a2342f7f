import { describe, expect, it } from "vitest";
import { clientAddress } from "./clientAddress";

describe("clientAddress", () => {
  it("is the socket's address for a remote client, whatever X-Forwarded-For it sends", () => {
    expect(clientAddress("203.0.113.7", undefined)).toBe("203.0.113.7");
    expect(clientAddress("203.0.113.7", "198.51.100.1")).toBe("203.0.113.7");
    expect(clientAddress("::ffff:203.0.113.7", "127.0.0.1, 198.51.100.1")).toBe("::ffff:203.0.113.7");
  });

  it("trusts a reverse proxy on this host to report the client before it", () => {
    expect(clientAddress("127.0.0.1", "198.51.100.1")).toBe("198.51.100.1");
    expect(clientAddress("::1", "198.51.100.1")).toBe("198.51.100.1");
    expect(clientAddress("::ffff:127.0.0.1", "2001:db8::5")).toBe("2001:db8::5");
  });

  it("stops at the first hop not on this host: a spoofed entry left of it is ignored", () => {
    // The client sent "X-Forwarded-For: 10.9.9.9"; the local proxy appended the real address.
    expect(clientAddress("127.0.0.1", "10.9.9.9, 198.51.100.1")).toBe("198.51.100.1");
    expect(clientAddress("127.0.0.1", ["10.9.9.9", "198.51.100.1"])).toBe("198.51.100.1");
    // Two proxies on this host in a row.
    expect(clientAddress("127.0.0.1", "198.51.100.1, 127.0.0.1")).toBe("198.51.100.1");
  });

  it("ends the walk at a malformed entry and keeps the last hop it could trust", () => {
    expect(clientAddress("127.0.0.1", "not-an-address")).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", "198.51.100.1, <script>")).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", " , ")).toBe("127.0.0.1");
  });

  it("a local client without a proxy is itself; an unknown socket says so", () => {
    expect(clientAddress("127.0.0.1", undefined)).toBe("127.0.0.1");
    expect(clientAddress(undefined, "198.51.100.1")).toBe("unknown");
  });
});
