// Each role is refused pages and actions outside its role, in the UI (a clear 403 page, no
// link in the navigation) and straight at the API (FORBIDDEN / UNAUTHENTICATED, not a 500).
import pg from "pg";
import { apiLogin, apiQuery, apiUrl, expect, login, signIn, test, USERS, type DemoUser } from "../support/fixtures";

const SOME_UUID = "00000000-0000-4000-8000-000000000000";

const FORBIDDEN_PAGES: Record<DemoUser, string[]> = {
  tech: ["/audit", "/models", "/retraining", "/users", `/cases/${SOME_UUID}/review`],
  hema: ["/upload", "/audit", "/models", "/retraining", "/users"],
  ds: ["/upload", "/audit", "/users", `/cases/${SOME_UUID}/review`],
  auditor: ["/upload", "/models", "/retraining", "/users", `/cases/${SOME_UUID}/review`],
  admin: ["/upload", "/retraining", `/cases/${SOME_UUID}/review`],
};

const NAV: Record<DemoUser, string[]> = {
  tech: ["worklist", "upload"],
  hema: ["worklist"],
  ds: ["worklist", "models", "retraining"],
  auditor: ["worklist", "audit"],
  admin: ["worklist", "audit", "models", "users"],
};

for (const who of Object.keys(FORBIDDEN_PAGES) as DemoUser[]) {
  test(`${who}: pages outside the role answer 403 and are not in the navigation`, async ({ page }) => {
    await login(page, who);
    const links = await page.locator('nav[aria-label="Main"] a').evaluateAll((as) => as.map((a) => a.getAttribute("href")!.slice(1)));
    expect(links).toEqual(NAV[who]);
    for (const path of FORBIDDEN_PAGES[who]) {
      const res = await page.goto(path);
      expect(res?.status(), path).toBe(403);
      await expect(page.getByTestId("forbidden")).toBeVisible();
    }
  });
}

test("signed-out visitors are sent to the login page; wrong passwords are refused", async ({ page }) => {
  await page.goto("/audit");
  await expect(page).toHaveURL(/\/login\?callbackUrl=%2Faudit/);
  await page.getByTestId("login-username").fill("hema");
  await page.getByTestId("login-password").fill("wrong-password");
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("login-error")).toBeVisible();
});

test("the API refuses actions outside each role, and anonymous calls", async ({ request }) => {
  const anonymous = await apiQuery(request, null, "{ cases(first: 1) { nodes { id } } }");
  expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

  const cases: [DemoUser, string, Record<string, unknown>][] = [
    ["auditor", 'mutation { createCase(input: { accession: "DENIED-1" }) { id } }', {}],
    ["tech", "mutation($c: ID!) { signOffCase(input: { caseId: $c, login: \"tech\", password: \"tech-demo-pass\", meaning: \"x\", seenCells: 0, seenDecisions: 0, seenCaseUpdatedAt: \"2026-01-01T00:00:00Z\" }) { id } }", { c: SOME_UUID }],
    ["hema", 'mutation { createUser(input: { login: "x1", displayName: "X", role: ADMIN, password: "0123456789ab", reason: "denied anyway" }) { id } }', {}],
    ["ds", "{ auditTrail(first: 1) { nodes { seq } } }", {}],
    ["hema", 'mutation { createDatasetSnapshot(name: "nope") { id } }', {}],
    ["ds", "mutation($id: ID!) { decidePromotion(id: $id, approve: true) { id } }", { id: SOME_UUID }],
  ];
  for (const [who, query, variables] of cases) {
    const token = await apiLogin(request, who);
    const r = await apiQuery(request, token, query, variables);
    expect(r.errors?.[0]?.extensions?.code, `${who}: ${query}`).toBe("FORBIDDEN");
    expect(r.status, `${who}: ${query}`).toBeLessThan(500);
  }

  // REST beside GraphQL: a hematologist may not upload, nobody anonymous may read images.
  const hema = await apiLogin(request, "hema");
  const up = await request.post(`${apiUrl()}/uploads/slides?caseId=${SOME_UUID}&kind=FIELD`, {
    headers: { authorization: `Bearer ${hema}` },
    multipart: { files: { name: "x.png", mimeType: "image/png", buffer: Buffer.from("x") } },
  });
  expect(up.status()).toBe(403);
  expect((await request.get(`${apiUrl()}/blobs/${"0".repeat(64)}`)).status()).toBe(401);
});

test("the dashboard's own API routes check the session, the role and the Origin", async ({ page, request, baseURL }) => {
  // No session.
  const anon = await request.post(`${baseURL}/api/graphql`, { headers: { origin: baseURL! }, data: { query: "{ apiVersion }" } });
  expect(anon.status()).toBe(401);
  expect((await request.get(`${baseURL}/api/images/cells/${SOME_UUID}/gradcam`)).status()).toBe(401);
  // A cross-site page cannot make a signed-in browser post here (CSRF).
  await login(page, "hema");
  const cross = await page.request.post(`${baseURL}/api/graphql`, { headers: { origin: "https://evil.example" }, data: { query: "{ apiVersion }" } });
  expect(cross.status()).toBe(403);
  const same = await page.request.post(`${baseURL}/api/graphql`, { headers: { origin: baseURL! }, data: { query: "{ me { role } }" } });
  expect((await same.json()).data.me.role).toBe("HEMATOLOGIST");
  // The Grad-CAM proxy: a malformed id never reaches the API; an unknown cell is a 404, not a 500.
  expect((await page.request.get(`${baseURL}/api/images/cells/not-a-cell/gradcam`)).status()).toBe(400);
  expect((await page.request.get(`${baseURL}/api/images/cells/${SOME_UUID}/gradcam`)).status()).toBe(404);
  // The audit export is for AUDITOR and ADMIN only, and the upload proxy for TECHNICIAN.
  // (Sent as the app's own page would: the export refuses a request that does not say so.)
  const hemaExport = await page.request.get(`${baseURL}/api/audit.csv`, { headers: { "sec-fetch-site": "same-origin" } });
  expect(hemaExport.status()).toBe(403);
  expect(await hemaExport.text()).toMatch(/role/);
  // So is the export key's public half (nothing secret, but not this role's business either).
  expect((await page.request.get(`${baseURL}/api/audit/export-key`, { headers: { "sec-fetch-site": "same-origin" } })).status()).toBe(403);
  expect((await request.get(`${baseURL}/api/audit/export-key`)).status()).toBe(401);
  const upload = await page.request.post(`${baseURL}/api/uploads?caseId=${SOME_UUID}&kind=FIELD`, {
    headers: { origin: baseURL! },
    multipart: { files: { name: "x.png", mimeType: "image/png", buffer: Buffer.from("x") } },
  });
  expect(upload.status()).toBe(403);
  // The browser never holds the API token: the session endpoint shows no token.
  const session = await (await page.request.get(`${baseURL}/api/auth/session`)).json();
  expect(JSON.stringify(session)).not.toMatch(/token/i);
  expect(session.user.role).toBe("HEMATOLOGIST");
});

test("security headers are set on pages", async ({ request, baseURL }) => {
  const res = await request.get(`${baseURL}/login`);
  const h = res.headers();
  expect(h["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(h["content-security-policy"]).not.toMatch(/https?:\/\//);
  expect(h["x-content-type-options"]).toBe("nosniff");
  expect(h["referrer-policy"]).toBe("no-referrer");
});

test("a session cookie copied before sign-out reaches no data after it", async ({ page, browser, baseURL }) => {
  // A sign-in of its own: the cached demo sessions are shared with the other tests.
  await signIn(page, "auditor");
  const copied = await page.context().cookies();
  await page.getByTestId("sign-out").click();
  await page.waitForURL("**/login**");

  // Replayed elsewhere, the cookie still decodes, but the API token inside it was revoked.
  const other = await browser.newContext({ baseURL });
  await other.addCookies(copied);
  const replay = await other.newPage();
  await replay.goto("/audit");
  await replay.waitForURL("**/login**");
  await expect(replay.getByTestId("login-username")).toBeVisible();
  await expect(replay.getByTestId("audit-table")).toHaveCount(0);
  await other.close();
});

test("a link to the session-ended page does not sign a live session out", async ({ page }) => {
  await login(page, "auditor");
  await page.goto("/session-ended?callbackUrl=%2Faudit");
  await expect(page.getByTestId("session-alive")).toBeVisible();
  await page.getByRole("link", { name: "Continue" }).click();
  await page.waitForURL("**/audit");
  await expect(page.getByTestId("user-role")).toHaveAttribute("title", "AUDITOR");
});

test("a session left without activity signs out, on a page that does not poll, once", async ({ page }) => {
  // A sign-in of its own: the cached demo sessions are shared with the other tests.
  await signIn(page, "auditor");
  await page.goto("/audit");
  await expect(page.getByTestId("audit-table")).toBeVisible();

  // As if the workstation had been left for 32 minutes. The audit page sends no requests of its
  // own: the session watch (every 30 s) finds the session idle and the dashboard signs out.
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  try {
    const aged = await db.query(
      `UPDATE api_session SET "lastSeenAt" = now() - interval '32 minutes'
        WHERE "tokenSha256" = (SELECT s."tokenSha256" FROM api_session s JOIN "user" u ON u.id = s."userId"
                               WHERE u.login = $1 AND s."endedAt" IS NULL ORDER BY s."issuedAt" DESC LIMIT 1)`,
      [USERS.auditor.login],
    );
    expect(aged.rowCount).toBe(1);
    await page.waitForURL("**/login**", { timeout: 60_000 });
    await expect(page.getByTestId("signed-out-idle")).toBeVisible();
    // Closed once, by the system, whichever of the watch and the API's sweep noticed first.
    const ended = await db.query(
      `SELECT count(*)::int AS n FROM audit_event WHERE action = 'auth.session_timeout' AND "actorLogin" = 'system'
          AND "entityId" = (SELECT id::text FROM "user" WHERE login = $1)`,
      [USERS.auditor.login],
    );
    expect(ended.rows[0].n).toBe(1);
  } finally {
    await db.end();
  }
});
