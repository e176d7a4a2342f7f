// The auditor reads the whole trail in the dashboard, page after page, not only its newest 200.
import { createHash, createPublicKey, verify } from "node:crypto";
import pg from "pg";
import { expect, login, test } from "../support/fixtures";

test("the audit page loads older events on demand, without repeats", async ({ page }) => {
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  try {
    // At least 260 events, whatever ran before (the trigger chains them like any other).
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM audit_event`);
    for (let i = rows[0].n; i < 260; i++) {
      await db.query(`INSERT INTO audit_event ("actorLogin", action, "entityType", "entityId") VALUES ('system', 'e2e.filler', 'Test', $1)`, [`filler-${i}`]);
    }
  } finally {
    await db.end();
  }
  await login(page, "auditor");
  await page.goto("/audit");
  await expect(page.getByTestId("audit-row")).toHaveCount(200);
  await expect(page.getByTestId("audit-shown")).toHaveText("Showing the newest 200 events.");
  // Announced to screen readers too, in a status region that is always there.
  await expect(page.getByTestId("audit-result")).toHaveAttribute("role", "status");
  await expect(page.getByTestId("audit-result")).toHaveText("200+ events shown, newest first");
  const first = await page.getByTestId("audit-row").evaluateAll((trs) => trs.map((tr) => Number(tr.querySelector("td")!.textContent)));
  await page.getByTestId("audit-older").click();
  await expect.poll(async () => page.getByTestId("audit-row").count()).toBeGreaterThan(200);
  const all = await page.getByTestId("audit-row").evaluateAll((trs) => trs.map((tr) => Number(tr.querySelector("td")!.textContent)));
  expect(all.slice(0, 200)).toEqual(first);
  expect(new Set(all).size).toBe(all.length);
  expect(Math.min(...all)).toBeLessThan(Math.min(...first));
  expect(all).toEqual([...all].sort((a, b) => b - a));
});

test("a failed export says so on the page, and no file is saved", async ({ page }) => {
  await login(page, "auditor");
  await page.goto("/audit");
  // As the export route answers when the API fails mid-way; then as a proxy in front of it might.
  await page.route("**/api/audit.csv**", (route) =>
    route.fulfill({
      status: 502,
      contentType: "application/json",
      body: JSON.stringify({ errors: [{ message: "The API could not produce the export; no export was made.", extensions: { code: "UNAVAILABLE" } }] }),
    }),
  );
  let downloaded = false;
  page.on("download", () => {
    downloaded = true;
  });
  await page.getByTestId("audit-csv").click();
  await expect(page.getByTestId("audit-csv-error")).toContainText("no export was made");
  await page.unroute("**/api/audit.csv**");
  await page.route("**/api/audit.csv**", (route) => route.fulfill({ status: 504, contentType: "text/html", body: "<html><body>Gateway Timeout nginx</body></html>" }));
  await page.getByTestId("audit-csv").click();
  await expect(page.getByTestId("audit-csv-error")).toContainText("(HTTP 504)");
  await expect(page.getByTestId("audit-csv-error")).not.toContainText("nginx");
  expect(downloaded).toBe(false);
});

test("an export in progress says so and can be cancelled: nothing is saved, and the button is back", async ({ page }) => {
  await login(page, "auditor");
  await page.goto("/audit");
  // The server slow to begin (as while it verifies a long chain): held until the test lets it go.
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route("**/api/audit.csv**", async (route) => {
    await held;
    // The page gave the request up by then: answering it fails, which is the point.
    await route.fulfill({ status: 200, contentType: "text/csv", body: "seq\r\n" }).catch(() => {});
  });
  let downloaded = false;
  page.on("download", () => {
    downloaded = true;
  });
  await page.getByTestId("audit-csv").click();
  await expect(page.getByTestId("audit-csv")).toBeDisabled();
  await expect(page.getByTestId("audit-csv-progress")).toContainText("Waiting for the server");
  await page.getByTestId("audit-csv-cancel").click();
  await expect(page.getByTestId("audit-csv-notice")).toHaveText("The export was cancelled; nothing was saved.");
  await expect(page.getByTestId("audit-csv-error")).toHaveCount(0);
  await expect(page.getByTestId("audit-csv")).toBeEnabled();
  await expect(page.getByTestId("audit-csv")).toBeFocused();
  await expect(page.getByTestId("audit-csv-progress")).toHaveCount(0);
  await expect(page.getByTestId("audit-csv-cancel")).toHaveCount(0);
  release();
  await page.unrouteAll({ behavior: "wait" });
  expect(downloaded).toBe(false);
});

test("an export says in the file what it covers and that it is whole, and the page shows the chain verdict", async ({ page }) => {
  await login(page, "auditor");
  await page.goto("/audit");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-csv").click()]);
  const lines = Buffer.concat(await (await download.createReadStream()).toArray()).toString("utf8").split("\r\n");
  expect(lines[0]).toBe("seq,at,actorLogin,actorId,action,entityType,entityId,reason,before,after,prevHash,hash,hashedText");
  // Only a complete export ends with its row count, the sha256 of the lines above, the trail's
  // head and what it covers, signed with the platform's export key (then the final line break).
  expect(lines.at(-2)).toMatch(/^# rows=[1-9]\d* complete; sha256=[0-9a-f]{64}; head=#\d+ [0-9a-f]{64}; RCMNet audit export; exported \S+Z by auditor; filter none; chain intact; \d+ events verified[^,"]*; redacted none; sig=ed25519:[A-Za-z0-9+/]{86}==; key=[0-9a-f]{64}$/);
  expect(lines.at(-1)).toBe("");
  await expect(page.getByTestId("audit-csv-chain")).toContainText("Hash chain at export: intact");

  // The page names the key that signed it, and gives its public half, with which the signature
  // over the closing line checks out; the same line with one figure changed does not.
  const [, signed, sig, fingerprint] = /^(.*); sig=ed25519:(\S+); key=([0-9a-f]{64})$/.exec(lines.at(-2)!)!;
  await expect(page.getByTestId("audit-export-key-fingerprint")).toHaveText(`${fingerprint!.slice(0, 16)}…`);
  await expect(page.getByTestId("audit-export-key")).toContainText(/recorded in the trail as event #\d+/);
  const [keyFile] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export-key-download").click()]);
  expect(keyFile.suggestedFilename()).toBe(`rcmnet-audit-export-key-${fingerprint!.slice(0, 12)}.pem`);
  const key = createPublicKey(Buffer.concat(await (await keyFile.createReadStream()).toArray()));
  expect(createHash("sha256").update(key.export({ format: "der", type: "spki" }).subarray(-32)).digest("hex")).toBe(fingerprint);
  expect(verify(null, Buffer.from(signed!, "utf8"), key, Buffer.from(sig!, "base64"))).toBe(true);
  expect(verify(null, Buffer.from(signed!.replace(/rows=(\d+)/, (_, n) => `rows=${Number(n) + 1}`), "utf8"), key, Buffer.from(sig!, "base64"))).toBe(false);
});
