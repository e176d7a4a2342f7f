import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it, vi } from "vitest";
import { withClientAddress } from "./withClientAddress";

const request = (remoteAddress: string, forwardedFor?: string) =>
  ({ socket: { remoteAddress }, headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {} }) as unknown as IncomingMessage;

function response() {
  const res = { headersSent: false, writeHead: vi.fn(), end: vi.fn() };
  return res as typeof res & ServerResponse;
}

describe("withClientAddress", () => {
  it("hands Next the socket's address in place of a remote client's own X-Forwarded-For", async () => {
    const seen: unknown[] = [];
    const serve = withClientAddress(async (req) => void seen.push(req.headers["x-forwarded-for"]));
    serve(request("203.0.113.7", "10.0.0.1, 10.0.0.2"), response());
    serve(request("127.0.0.1", "198.51.100.1"), response());
    serve(request("203.0.113.8"), response());
    await Promise.resolve();
    expect(seen).toEqual(["203.0.113.7", "198.51.100.1", "203.0.113.8"]);
  });

  it("answers 500 when the handler fails", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = response();
    withClientAddress(async () => Promise.reject(new Error("boom")))(request("203.0.113.7"), res);
    await vi.waitFor(() => expect(res.end).toHaveBeenCalledWith("Internal server error"));
    expect(res.writeHead).toHaveBeenCalledWith(500, { "content-type": "text/plain" });
  });
});
