// Test harness: a running API on a fresh, migrated database on the real local PostgreSQL
// (@rcmnet/db/testing), with a temporary blob store. One per test file (beforeAll/afterAll).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { BlobStore, createPrismaClient, type PrismaClient, type Role, type User } from "@rcmnet/db";
import { appRoleUrl, createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { createApp } from "../app.ts";
import { DEFAULT_MIN_TEST_CELLS, defaultLimits, type Env, type Limits } from "../env.ts";
import { hashPassword } from "../auth/passwords.ts";
import { parseHostRules } from "../lib/hostCheck.ts";
import { ALL_ROLES } from "../auth/roles.ts";
import { createLogger, type Logger } from "../log.ts";

export interface GqlResult<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [k: string]: unknown } }[];
}

export interface TestUser {
  user: User;
  password: string;
}

export interface TestApi {
  url: string;
  prisma: PrismaClient;
  db: TestDatabase;
  blobs: BlobStore;
  env: Env;
  /** POST /graphql with an optional bearer token. */
  gql<T = any>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  /** Like gql, but throws on any GraphQL error and returns data. */
  gqlOk<T = any>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<T>;
  /** A user of that role (created on first use, one per role) signed in through the API. */
  loginAs(role: Role): Promise<string>;
  /** loginAs for every role, as a token per role. */
  loginAsEveryRole(): Promise<Record<Role, string>>;
  /** A new user with a known password (not signed in). */
  createUser(role: Role, overrides?: Partial<Pick<User, "login" | "displayName" | "disabled">>): Promise<TestUser>;
  /** Signs in through the API. */
  login(login: string, password: string): Promise<string>;
  /** fetch against the API with an optional bearer token. */
  fetch(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

export const TEST_PASSWORD = "correct horse battery";

let userCounter = 0;

export interface TestApiOptions {
  limits?: Partial<Limits>;
  /** The API's own client (e.g. one that counts queries); the test database's client otherwise. */
  apiPrisma?: (url: string) => PrismaClient;
  /** The API's logger (silent by default). */
  log?: Logger;
  /** "production" to test what a real install serves (no introspection, no schema hints). */
  nodeEnv?: Env["nodeEnv"];
  /** RCMNET_MIN_TEST_CELLS; unset: the default. Tests whose TEST parts are small set a low one. */
  minTestCells?: number;
  /** API_ALLOWED_HOSTS entries (`host[:port]`); loopback names are always allowed. */
  allowedHosts?: string[];
}

export async function createTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const db = await createTestDatabase();
  // The API serves as a role that does not own the tables, as production should (grant-app-role):
  // a privilege the platform needs and the role lacks fails these tests.
  const appUrl = await appRoleUrl(db.url);
  const apiPrisma = options.apiPrisma?.(appUrl) ?? createPrismaClient(appUrl, { max: 5 });
  const dataDir = await mkdtemp(join(tmpdir(), "rcmnet-api-test-"));
  const blobs = new BlobStore(join(dataDir, "blobs"));
  const env: Env = {
    nodeEnv: options.nodeEnv ?? "test",
    databaseUrl: db.url,
    migrationUrl: undefined,
    port: 0,
    host: "127.0.0.1",
    allowedHosts: parseHostRules(options.allowedHosts ?? []),
    workers: 1,
    dataDir,
    authSecret: "test-secret-test-secret-test-secret-0123456789",
    tokenTtlSeconds: 3600,
    idleTimeoutSeconds: 1800,
    passwordMaxAgeDays: 180,
    temporaryPasswordHours: 72,
    minTestCells: options.minTestCells ?? DEFAULT_MIN_TEST_CELLS,
    auditAnchorMinutes: 10,
    auditAnchorFile: join(dataDir, "audit-anchors.jsonl"),
    logLevel: "silent" as const,
    limits: { ...defaultLimits, loginAttemptsPerMinute: 10_000, requestsPerTokenPerMinute: 1_000_000, ...options.limits },
  };
  const { app, stop } = await createApp({ prisma: apiPrisma, blobs, env, log: options.log ?? createLogger("silent") });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const doFetch: TestApi["fetch"] = (path, init = {}) => {
    const { token, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return fetch(url + path, { ...rest, headers });
  };

  const gql: TestApi["gql"] = async (token, query, variables) => {
    const res = await doFetch("/graphql", {
      method: "POST",
      token,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as Omit<GqlResult, "status">;
    return { status: res.status, ...body };
  };

  const gqlOk: TestApi["gqlOk"] = async (token, query, variables) => {
    const r = await gql(token, query, variables);
    if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
    return r.data;
  };

  const createUser: TestApi["createUser"] = async (role, overrides = {}) => {
    const n = ++userCounter;
    const login = overrides.login ?? `${role.toLowerCase()}${n}`;
    const user = await db.prisma.user.create({
      data: {
        login,
        displayName: overrides.displayName ?? `Test ${role} ${n}`,
        role,
        disabled: overrides.disabled ?? false,
        passwordHash: await hashPassword(TEST_PASSWORD),
      },
    });
    return { user, password: TEST_PASSWORD };
  };

  const login = async (loginName: string, password: string) => {
    const data = await gqlOk<{ login: { token: string } }>(
      null,
      `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }`,
      { l: loginName, p: password },
    );
    return data.login.token;
  };

  const tokens = new Map<Role, Promise<string>>();
  const loginAs = (role: Role) => {
    let token = tokens.get(role);
    if (!token) {
      token = createUser(role).then(({ user, password }) => login(user.login, password));
      tokens.set(role, token);
    }
    return token;
  };
  const loginAsEveryRole = async () =>
    Object.fromEntries(await Promise.all(ALL_ROLES.map(async (role) => [role, await loginAs(role)]))) as Record<Role, string>;

  return {
    url,
    prisma: db.prisma,
    db,
    blobs,
    env,
    gql,
    gqlOk,
    loginAs,
    loginAsEveryRole,
    createUser,
    login,
    fetch: doFetch,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await stop();
      await apiPrisma.$disconnect();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
