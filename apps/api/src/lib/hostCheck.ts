// DNS rebinding: a page at http://x.attacker:4000 whose name its owner then points at 127.0.0.1
// talks to a server on the visitor's loopback as a same-origin page, so neither CORS nor an
// Origin check (Origin and Host then both say x.attacker) stops it. What the browser cannot hide
// is the name it used: the Host header. A server that answers only to its own names (loopback
// and the names it is configured with) refuses such requests. Pure and dependency-free: the API
// (app.ts) and the dashboard (apps/web/src/server/security.ts) use the same rules.

/** A name the server answers to; without a port, on any port. */
export interface HostRule {
  hostname: string;
  port?: string;
}

/** Names that always reach this machine itself, on any port. */
export const LOOPBACK_HOSTNAMES: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];

// A host name or an IP literal, then an optional port: no userinfo, path, spaces or other
// characters a URL parser would read something else into.
const HOST_SHAPE = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i;

/**
 * A Host header (or a configured `host[:port]`) as a lowercase hostname (IP literals
 * normalized, a final dot dropped) and the port as written; null when it is not one.
 */
export function parseHost(value: string | null | undefined): { hostname: string; port: string | undefined } | null {
  if (!value) return null;
  const match = HOST_SHAPE.exec(value.trim());
  if (!match) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${match[1]}`).hostname;
  } catch {
    return null;
  }
  hostname = hostname.replace(/\.$/, "");
  if (!hostname) return null;
  return { hostname, port: match[2] };
}

/** Parses `host[:port]` entries; throws naming the first that is not one. */
export function parseHostRules(entries: readonly string[]): HostRule[] {
  return entries
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const parsed = parseHost(entry);
      if (!parsed) throw new Error(`not a host name or host:port: ${JSON.stringify(entry)}`);
      return parsed.port === undefined ? { hostname: parsed.hostname } : { hostname: parsed.hostname, port: parsed.port };
    });
}

export function isLoopbackHostname(hostname: string): boolean {
  return LOOPBACK_HOSTNAMES.includes(hostname);
}

/**
 * Whether a request's Host header names this server: a loopback name on any port, or one of
 * `rules`. A missing or malformed header is refused.
 */
export function hostAllowed(hostHeader: string | null | undefined, rules: readonly HostRule[]): boolean {
  const host = parseHost(hostHeader);
  if (!host) return false;
  if (isLoopbackHostname(host.hostname)) return true;
  return rules.some((rule) => rule.hostname === host.hostname && (rule.port === undefined || rule.port === host.port));
}
