// Request-level security rules, pure so that they are unit-tested: the CSP and the CSRF
// Origin check used by src/proxy.ts.

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
 * CSRF: a state-changing request must come from one of our own pages. Browsers always send
 * Origin on cross-origin and same-origin POSTs; a request without one (curl, another server)
 * is refused too, since this app's API routes are for its own pages only.
 */
export function originAllowed(method: string, origin: string | null, host: string | null, allowed: ReadonlySet<string>): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return true;
  if (!origin || origin === "null") return false;
  if (allowed.has(origin)) return true;
  try {
    return host !== null && new URL(origin).host === host;
  } catch {
    return false;
  }
}
