// The only reader of process.env in the web app: everything else imports `env`.
// Server-only: importing it from a client component is a build error (server-only secret).
import "server-only";
import { z } from "zod";
import { deriveAllowedOrigins } from "@/server/security";

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  /** GraphQL API origin, reached only from this server (browsers talk to /api/* here). */
  API_URL: z.url().default("http://127.0.0.1:4000"),
  /** Encrypts the session JWT. The launcher generates a dev value; production must set its own. */
  NEXTAUTH_SECRET: z.string().min(32, "NEXTAUTH_SECRET must be at least 32 characters"),
  /** The public origin of this app, e.g. https://rcmnet.hospital.example. */
  NEXTAUTH_URL: z.url().default("http://127.0.0.1:3000"),
  /** Session lifetime in seconds (the API token lives 8 h; the shorter one wins). */
  SESSION_MAX_AGE_S: z.coerce.number().int().positive().max(8 * 3600).default(8 * 3600),
  /** The API's idle timeout, read from the same variable, so that the login page can name it. */
  RCMNET_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(60).max(2 * 3600).default(30 * 60),
  /**
   * Extra allowed origins (comma separated), e.g. a second host name: the CSRF Origin check takes
   * them, and their host names join NEXTAUTH_URL's as the names this app answers to (the Host
   * check against DNS rebinding; loopback names always pass).
   */
  WEB_ALLOWED_ORIGINS: z.string().default(""),
});

// `next build` imports route modules to collect page data; the secret is only needed to serve.
const building = process.env.NEXT_PHASE === "phase-production-build";

function load() {
  const parsed = schema.safeParse(
    building && !process.env.NEXTAUTH_SECRET
      ? { ...process.env, NEXTAUTH_SECRET: "build-time-placeholder-never-used-to-serve-requests" }
      : process.env,
  );
  if (!parsed.success) {
    // Names only: values may be secrets.
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid web environment: ${problems}`);
  }
  const e = parsed.data;
  const publicOrigin = new URL(e.NEXTAUTH_URL).origin;
  const allowedOrigins = deriveAllowedOrigins(e.NEXTAUTH_URL, e.WEB_ALLOWED_ORIGINS);
  return {
    ...e,
    API_URL: e.API_URL.replace(/\/+$/, ""),
    publicOrigin,
    allowedOrigins,
    /** Secure cookies whenever the app is served over TLS. */
    secureCookies: e.NEXTAUTH_URL.startsWith("https://"),
  };
}

export const env = load();
