import { expect, test as base, type APIRequestContext, type Page } from "@playwright/test";

export const USERS = {
  admin: { login: "admin", password: "admin-demo-pass", role: "ADMIN" },
  hema: { login: "hema", password: "hema-demo-pass", role: "HEMATOLOGIST" },
  tech: { login: "tech", password: "tech-demo-pass", role: "TECHNICIAN" },
  ds: { login: "ds", password: "ds-demo-pass", role: "DATA_SCIENTIST" },
  auditor: { login: "auditor", password: "auditor-demo-pass", role: "AUDITOR" },
} as const;
export type DemoUser = keyof typeof USERS;

export const test = base.extend({
  // The port is chosen by the global setup, after the config was read.
  baseURL: async ({ baseURL: _configured }, use) => use(process.env.E2E_BASE_URL),
});
export { expect };

export function apiUrl(): string {
  const u = process.env.E2E_API_URL;
  if (!u) throw new Error("E2E_API_URL is not set: run through playwright test (global setup)");
  return u;
}

export function fields(): string[] {
  return (process.env.E2E_FIELDS ?? "").split(",").filter(Boolean);
}

type Cookies = Awaited<ReturnType<import("@playwright/test").BrowserContext["cookies"]>>;
// One sign-in per role per run: the API limits sign-ins per client address, and every browser
// here comes from 127.0.0.1. Later tests reuse the session cookies.
const sessions = new Map<DemoUser, Cookies>();

export async function login(page: Page, who: DemoUser) {
  const u = USERS[who];
  const context = page.context();
  const saved = sessions.get(who);
  if (saved) {
    await context.clearCookies();
    await context.addCookies(saved);
    await page.goto("/worklist");
    await expect(page.getByTestId("user-role")).toHaveAttribute("title", u.role);
    return;
  }
  await signIn(page, who);
  sessions.set(who, await context.cookies());
}

/** A sign-in of its own through the login form, for tests that end or age their session. */
export async function signIn(page: Page, who: DemoUser) {
  const u = USERS[who];
  await page.context().clearCookies();
  // A page just signed in may still be navigating (the redirect after sign-in): that navigation
  // can abort this one, which is then made again.
  await page.goto("/login").catch(async (e: Error) => {
    if (!/ERR_ABORTED|interrupted by another navigation/.test(e.message)) throw e;
    await page.goto("/login");
  });
  await page.getByTestId("login-username").fill(u.login);
  await page.getByTestId("login-password").fill(u.password);
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("user-role")).toHaveAttribute("title", u.role);
}

/** Straight to the API, as a non-browser client would (the dashboard is not involved). */
const tokens = new Map<DemoUser, string>();

export async function apiLogin(request: APIRequestContext, who: DemoUser): Promise<string> {
  const cached = tokens.get(who);
  if (cached) return cached;
  const u = USERS[who];
  const res = await request.post(`${apiUrl()}/graphql`, {
    data: { query: "mutation($l:String!,$p:String!){ login(login:$l,password:$p){ token } }", variables: { l: u.login, p: u.password } },
  });
  const body = await res.json();
  if (!body.data?.login?.token) throw new Error(`API login failed for ${u.login}: ${JSON.stringify(body.errors)}`);
  tokens.set(who, body.data.login.token as string);
  return body.data.login.token as string;
}

export async function apiQuery<T = unknown>(
  request: APIRequestContext,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ status: number; data?: T; errors?: { message: string; extensions?: { code?: string } }[] }> {
  const res = await request.post(`${apiUrl()}/graphql`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    data: { query, variables },
  });
  return { status: res.status(), ...(await res.json()) };
}

/** Creates a case through the Upload page and returns its id. */
export async function createCase(page: Page, accession: string) {
  await page.goto("/upload");
  await page.getByTestId("case-accession-input").fill(accession);
  await page.getByTestId("case-patient-input").fill(`PT-${accession}`);
  await page.getByTestId("case-product-input").fill("tisagenlecleucel");
  await page.getByTestId("case-timepoint-input").fill("day +7");
  await page.getByTestId("case-specimen-input").fill("peripheral blood");
  await page.getByTestId("case-collected-input").fill("2026-11-20T08:30");
  await page.getByTestId("case-wbc-input").fill("4.2");
  await page.getByTestId("create-case-submit").click();
  await expect(page.getByTestId("upload-case-accession")).toHaveText(accession);
  const id = new URL(page.url()).searchParams.get("caseId");
  if (!id) throw new Error("no caseId in the URL after creating a case");
  return id;
}

export function uniqueAccession(prefix: string) {
  return `${prefix}-${Date.now().toString(36).toUpperCase()}`;
}

/**
 * The review page's key legend as [number key, stored label] pairs (the legend shows display
 * names such as "CAR-T cell"; the stored label is on data-label).
 */
export async function labelKeys(page: Page): Promise<[string, string][]> {
  return page
    .getByTestId("label-keys")
    .locator("span[data-label]")
    .evaluateAll((spans) => spans.map((s) => [s.querySelector("kbd")?.textContent ?? "", s.getAttribute("data-label") ?? ""] as [string, string]));
}

/**
 * Finds a case on the worklist by its accession, checks its status there, and opens its review
 * page; returns the case id from the URL.
 */
export async function openReviewFromWorklist(page: Page, accession: string, status: string): Promise<string> {
  await page.goto("/worklist");
  // The worklist opens on open work: a signed case is listed under All.
  if (status === "SIGNED_OUT" || status === "AMENDED") await page.getByTestId("filter-status").selectOption({ label: "All" });
  await page.getByTestId("filter-accession").fill(accession);
  const row = page.locator(`[data-testid="case-row"][data-accession="${accession}"]`);
  await expect(row).toHaveAttribute("data-status", status);
  await row.getByTestId("open-review").click();
  await expect(page.getByTestId("review-workspace")).toBeVisible();
  return /\/cases\/([^/]+)\/review/.exec(new URL(page.url()).pathname)![1]!;
}
