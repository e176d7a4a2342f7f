// NextAuth (v4) configuration: a Credentials provider that asks the API to log in. The API owns
// users, passwords and lockout; this app keeps the API's token inside the encrypted session
// JWT (HTTP-only cookie) and never sends it to the browser: the session callback below only
// exposes id, login, name and role.
import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { env } from "@/env";
import { LOGOUT } from "@/lib/operations";
import { apiGraphQL } from "@/server/api";
import { passwordChangeDue } from "./passwordDue";
import { signInError } from "./signInError";
import { parseRole, type Role } from "./roles";

export const SESSION_COOKIE = env.secureCookies ? "__Secure-rcmnet.session" : "rcmnet.session";

const LOGIN = /* GraphQL */ `
  mutation Login($login: String!, $password: String!) {
    login(login: $login, password: $password) {
      token
      expiresAt
      user { id login displayName role }
      mustChangePassword
      passwordExpiresAt
      previousSignInAt
      failedSignInsBefore
    }
  }
`;

interface LoginResult {
  login: { token: string; expiresAt: string; user: { id: string; login: string; displayName: string; role: string }; mustChangePassword: boolean; passwordExpiresAt: string | null; previousSignInAt: string | null; failedSignInsBefore: number | null };
}

/** What the encrypted session JWT holds (server-side only). */
export interface SessionClaims {
  uid: string;
  login: string;
  name: string;
  role: Role;
  apiToken: string;
  /** ms since epoch */
  apiExpiresAt: number;
  /**
   * An administrator set the password, or it is too old (also once it ages during the session):
   * the app asks for a new one before anything else.
   */
  mustChangePassword: boolean;
  /** ms since epoch: when the password becomes too old; null where passwords do not age. */
  passwordExpiresAt: number | null;
  /** This sign-in's look back, shown to the account's owner: ms since epoch, null at the first sign-in. */
  previousSignInAt: number | null;
  /** Wrong passwords typed for the account between its previous sign-in and this one. */
  failedSignInsBefore: number;
}

export function claimsFrom(token: Record<string, unknown> | null | undefined): SessionClaims | null {
  if (!token) return null;
  const role = parseRole(token.role);
  const { uid, login, name, apiToken, apiExpiresAt, mustChangePassword, passwordExpiresAt, previousSignInAt, failedSignInsBefore } = token;
  if (!role || typeof uid !== "string" || typeof login !== "string" || typeof apiToken !== "string") return null;
  if (typeof apiExpiresAt !== "number" || apiExpiresAt <= Date.now()) return null;
  // A prompt, not the control: the API itself refuses signatures with such a password.
  const expiresAt = typeof passwordExpiresAt === "number" ? passwordExpiresAt : null;
  return {
    uid,
    login,
    name: typeof name === "string" ? name : login,
    role,
    apiToken,
    apiExpiresAt,
    mustChangePassword: passwordChangeDue(mustChangePassword, expiresAt),
    passwordExpiresAt: expiresAt,
    previousSignInAt: typeof previousSignInAt === "number" ? previousSignInAt : null,
    failedSignInsBefore: typeof failedSignInsBefore === "number" ? failedSignInsBefore : 0,
  };
}

const cookieOptions = { httpOnly: true, sameSite: "lax" as const, path: "/", secure: env.secureCookies };

export const authOptions: NextAuthOptions = {
  secret: env.NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: env.SESSION_MAX_AGE_S, updateAge: 15 * 60 },
  jwt: { maxAge: env.SESSION_MAX_AGE_S },
  pages: { signIn: "/login", error: "/login" },
  useSecureCookies: env.secureCookies,
  cookies: {
    sessionToken: { name: SESSION_COOKIE, options: cookieOptions },
    csrfToken: { name: env.secureCookies ? "__Host-rcmnet.csrf" : "rcmnet.csrf", options: cookieOptions },
    callbackUrl: { name: env.secureCookies ? "__Secure-rcmnet.callback" : "rcmnet.callback", options: cookieOptions },
  },
  providers: [
    CredentialsProvider({
      name: "RCMNet",
      credentials: { login: { label: "Login", type: "text" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, req) {
        const login = credentials?.login?.trim();
        const password = credentials?.password;
        if (!login || !password) return null;
        try {
          // The API limits sign-ins per client address and trusts X-Forwarded-For from this app:
          // scripts/serve.ts has replaced the header with the client's address (clientAddress.ts).
          const forwarded = req?.headers?.["x-forwarded-for"];
          const { login: result } = await apiGraphQL<LoginResult>(LOGIN, { login, password }, undefined, typeof forwarded === "string" ? { "x-forwarded-for": forwarded } : {});
          const role = parseRole(result.user.role);
          if (!role) throw new Error("Your account has no valid role. Ask an administrator.");
          return {
            id: result.user.id,
            name: result.user.displayName,
            login: result.user.login,
            role,
            apiToken: result.token,
            apiExpiresAt: Date.parse(result.expiresAt),
            mustChangePassword: result.mustChangePassword,
            passwordExpiresAt: result.passwordExpiresAt ? Date.parse(result.passwordExpiresAt) : null,
            previousSignInAt: result.previousSignInAt ? Date.parse(result.previousSignInAt) : null,
            failedSignInsBefore: result.failedSignInsBefore ?? 0,
          };
        } catch (error) {
          // Thrown messages reach the login page as ?error=...: a wrong password is NextAuth's
          // own answer (null), anything else says what stopped the sign-in. No login is logged.
          const shown = signInError(error);
          if (shown) throw shown;
          return null;
        }
      },
    }),
  ],
  events: {
    // The session cookie is a self-contained JWT that NextAuth cannot revoke; the API token inside
    // it can be. A copy of the cookie taken before sign-out then reaches no data (the pages answer
    // "session ended"). Best effort: an expired or already revoked token has nothing to revoke.
    async signOut({ token }) {
      const claims = token ? claimsFrom(token) : null;
      if (claims) await apiGraphQL(LOGOUT, {}, claims.apiToken).catch(() => undefined);
    },
  },
  callbacks: {
    async jwt({ token, user }) {
      if (user) {
        const u = user as unknown as Omit<SessionClaims, "uid" | "name"> & { id: string; name: string };
        return { ...token, uid: u.id, login: u.login, name: u.name, role: u.role, apiToken: u.apiToken, apiExpiresAt: u.apiExpiresAt, mustChangePassword: u.mustChangePassword, passwordExpiresAt: u.passwordExpiresAt, previousSignInAt: u.previousSignInAt, failedSignInsBefore: u.failedSignInsBefore };
      }
      // The API token expired: drop every claim so that the session reads as signed out.
      if (!claimsFrom(token)) return { expired: true } as typeof token;
      return token;
    },
    async session({ session, token }) {
      const claims = claimsFrom(token);
      if (!claims) return { expires: session.expires } as typeof session;
      return {
        expires: new Date(Math.min(Date.parse(session.expires), claims.apiExpiresAt)).toISOString(),
        user: { id: claims.uid, login: claims.login, name: claims.name, role: claims.role },
      } as typeof session;
    },
  },
  logger: {
    // next-auth logs credentials-provider errors with their message; keep logs free of logins.
    error: (code) => console.error(`[auth] ${code}`),
    warn: (code) => console.warn(`[auth] ${code}`),
    debug: () => {},
  },
};
