// Request-level security rules, pure so that they are unit-tested: the CSP, the Host check
// (DNS rebinding) and the CSRF Origin check used by src/proxy.ts and requireRoute.
import { type HostRule, hostAllowed as hostMatches, isLoopbackHostname, LOOPBACK_HOSTNAMES, parseHost } from "@rcmnet/api/hostCheck";

/** No external sources anywhere: scripts need this request's nonce, everything else is same-origin. */
export function contentSecurityPolicy(nonce: string, dev: boolean): string {
  return [
    "default-src 'self'",
    // 'strict-dynamic' lets Next's nonce'd bootstrap load its own chunks; dev needs eval for React's stack traces.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' 'nonce-${nonce}'`,
    // Box positions and chart geometry are style attributes, not stylesheets.
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Route handlers serve this app's own pages, never another site: a request another site started
 * (a link or a redirect to /api/audit.csv, which records an export in the signed-in auditor's
 * name) is refused even as a GET. Browsers say who started a request in Sec-Fetch-Site; "none" is
 * the user's own address bar or bookmark, and a client that sends no header (curl) carries no
 * browser cookie either.
 */
export function fetchSiteAllowed(secFetchSite: string | null, { recordsAction = false } = {}): boolean {
  // A GET that records something (an export in the reader's name) is not taken without the
  // header: older browsers omit it yet send the SameSite=Lax cookie on another site's link.
  if (secFetchSite === null) return !recordsAction;
  return secFetchSite === "same-origin" || secFetchSite === "none";
}

/**
 * The origins the CSRF check accepts: NEXTAUTH_URL's and WEB_ALLOWED_ORIGINS'. A loopback
 * NEXTAUTH_URL (the quick start's http://localhost:3000) brings the other loopback names on the
 * same scheme and port with it: they reach the same server, and the start banner and the
 * launcher's own checks do not all use the same one.
 */
export function deriveAllowedOrigins(publicUrl: string, extra: string): Set<string> {
  const pub = new URL(publicUrl);
  const origins = new Set([pub.origin, ...extra.split(",").map((s) => s.trim()).filter(Boolean)]);
  if (isLoopbackHostname(pub.hostname)) {
    for (const name of LOOPBACK_HOSTNAMES) origins.add(`${pub.protocol}//${name}${pub.port ? `:${pub.port}` : ""}`);
  }
  return origins;
}

const hostRulesCache = new WeakMap<ReadonlySet<string>, HostRule[]>();

/** The allowed origins' host names, on any port (a proxy in front may add or drop the port). */
function hostRulesOf(allowedOrigins: ReadonlySet<string>): HostRule[] {
  let rules = hostRulesCache.get(allowedOrigins);
  if (!rules) {
    rules = [];
    for (const origin of allowedOrigins) {
      try {
        const host = parseHost(new URL(origin).hostname);
        if (host) rules.push({ hostname: host.hostname });
      } catch {
        // not a URL: names no host
      }
    }
    hostRulesCache.set(allowedOrigins, rules);
  }
  return rules;
}

/**
 * DNS rebinding: a page at http://x.attacker:3000 whose name was then pointed at this machine is
 * same-origin with it, Origin and Host both saying x.attacker. Every request must name this app:
 * by the host of an allowed origin (NEXTAUTH_URL, WEB_ALLOWED_ORIGINS) or a loopback name.
 */
export function hostAllowed(host: string | null, allowedOrigins: ReadonlySet<string>): boolean {
  return hostMatches(host, hostRulesOf(allowedOrigins));
}

export const HOST_REFUSED_MESSAGE =
  "This dashboard does not answer to that host name. Open it at its configured address (NEXTAUTH_URL, WEB_ALLOWED_ORIGINS) or on localhost.";

/**
 * CSRF: a state-changing request must come from one of our own pages. Browsers always send
 * Origin on cross-origin and same-origin POSTs; a request without one (curl, another server)
 * is refused too, since this app's API routes are for its own pages only. Only the configured
 * origins count: an Origin merely equal to the Host header proves nothing (under DNS rebinding
 * the attacker names both), and the Host must be one of ours as well.
 */
export function originAllowed(method: string, origin: string | null, host: string | null, allowed: ReadonlySet<string>): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return true;
  if (!origin || origin === "null") return false;
  return allowed.has(origin) && hostAllowed(host, allowed);
}
