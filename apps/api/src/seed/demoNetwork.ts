// The demo's logins have published passwords (`<login>-demo-pass`, not to be changed first):
// `npm start` (scripts/start.ts) serves them on loopback only, unless told explicitly. Pure, so
// that it is unit-tested without starting anything.

/** What a listen address means for who can connect: 127.0.0.0/8, ::1 and localhost are this machine only. */
export function isLoopbackBind(host: string): boolean {
  const h = host.trim().toLowerCase();
  return h === "localhost" || h === "::1" || h === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export interface DemoStartEnv {
  [name: string]: string | undefined;
  DATABASE_URL?: string | undefined;
  RCMNET_DEMO?: string | undefined;
  API_HOST?: string | undefined;
  WEB_HOST?: string | undefined;
  RCMNET_DEMO_ON_NETWORK?: string | undefined;
}

/** The demo is seeded on the embedded database (no DATABASE_URL) or with RCMNET_DEMO=1. */
export function demoWanted(env: DemoStartEnv): boolean {
  return !env.DATABASE_URL || env.RCMNET_DEMO === "1";
}

/**
 * Why `npm start` must not start (a message naming what to change), or null. With the demo's
 * published passwords, API_HOST or WEB_HOST set to a non-loopback address (0.0.0.0, a LAN
 * address, a name, or empty: every interface) is refused unless RCMNET_DEMO_ON_NETWORK=1. Unset,
 * both default to 127.0.0.1.
 */
export function demoNetworkRefusal(env: DemoStartEnv): string | null {
  if (!demoWanted(env) || env.RCMNET_DEMO_ON_NETWORK === "1") return null;
  const exposed = (["API_HOST", "WEB_HOST"] as const).filter((name) => env[name] !== undefined && !isLoopbackBind(env[name]));
  if (exposed.length === 0) return null;
  const settings = exposed.map((name) => `${name}=${JSON.stringify(env[name])}`).join(" and ");
  return (
    `refusing to serve the demo to the network: ${settings} listens beyond this machine, and the demo's logins ` +
    `have published passwords (admin / admin-demo-pass, ...). Unset ${exposed.join(" and ")} (loopback: 127.0.0.1), ` +
    "or run an install on your own PostgreSQL (DATABASE_URL, without RCMNET_DEMO=1), " +
    "or set RCMNET_DEMO_ON_NETWORK=1 if everyone who can reach this machine may sign in as any demo user."
  );
}
