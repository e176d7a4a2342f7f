import { isIP } from "node:net";

/**
 * The address of the client behind a request, as the API's sign-in limit should count it.
 *
 * `next start` keeps an X-Forwarded-For header the client sent itself (it only fills one in when
 * absent), and the API trusts that header from this app on the same host: a client could claim
 * a fresh address on every sign-in attempt and never meet the per-address limit. Here the chain
 * is walked from the socket leftwards, as Express's `trust proxy: "loopback"` does on the API:
 * a hop on this host (a reverse proxy such as nginx in front of the app) is trusted to report
 * the address before it; the first address that is not on this host is the client. A header
 * sent by a remote client is therefore ignored, and a malformed entry ends the walk.
 * (Not Express's `proxy-addr`, which implements the same walk: behind a local proxy it returns a
 * malformed entry such as "<script>" as the address, which would then reach the API's limiter.)
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined): string {
  const reported = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? ""))
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  let address = socketAddress ?? "unknown";
  while (isLoopback(address) && reported.length) {
    const previous = reported.pop()!;
    if (!isIP(previous)) break;
    address = previous;
  }
  return address;
}

function isLoopback(address: string): boolean {
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return address === "::1" || (isIP(v4) === 4 && v4.startsWith("127."));
}
