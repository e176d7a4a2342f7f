// ADMIN manages accounts; every change carries a reason (audited by the API), asked in an
// in-page dialog (a new password in a masked field, never the browser's clear-text prompt).
import type { Page } from "@playwright/test";
import pg from "pg";
import { expect, login, test } from "../support/fixtures";

async function answer(page: Page, text: string): Promise<void> {
  const dialog = page.getByTestId("ask-dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByTestId("ask-input").fill(text);
  await dialog.getByTestId("ask-submit").click();
}

test("admin creates a user, changes the role, resets the password; the user replaces it; a disabled user can no longer sign in", async ({ page, browser, baseURL }) => {
  await login(page, "admin");
  await page.goto("/users");
  const loginName = `e2e${Date.now().toString(36)}`;
  await page.getByTestId("new-user-login").fill(loginName);
  await page.getByTestId("new-user-name").fill("Erin Example");
  // No role is chosen in advance (the first one would be Administrator): none, nothing is sent.
  const newRole = page.getByTestId("new-user-role");
  await expect(newRole).toHaveValue("");
  await expect(newRole.locator("option:checked")).toHaveText("Choose a role…");
  // The password is typed twice; Create waits, saying why, until both agree.
  await page.getByTestId("new-user-password").fill("initial-pass-123");
  await expect(page.getByTestId("create-user")).toBeDisabled();
  await expect(page.getByTestId("new-user-password-hint")).toHaveText("Type the password again to confirm it.");
  await page.getByTestId("new-user-password-again").fill("initial-pass-132");
  await expect(page.getByTestId("create-user")).toBeDisabled();
  await expect(page.getByTestId("new-user-password-hint")).toHaveText("The two passwords differ.");
  await page.getByTestId("new-user-password-again").fill("initial-pass-123");
  await expect(page.getByTestId("new-user-password-hint")).toBeEmpty();
  await page.getByTestId("create-user").click();
  expect(await newRole.evaluate((el: HTMLSelectElement) => el.validity.valueMissing)).toBe(true);
  await expect(page.getByTestId("ask-dialog")).toBeHidden();
  await newRole.selectOption("TECHNICIAN");
  // A double-click creates one user, not one and an "already exists" error; the reason is asked once.
  await page.getByTestId("create-user").dblclick();
  await answer(page, "Joins the night shift");
  const row = page.locator(`[data-testid="user-row"][data-login="${loginName}"]`);
  await expect(row).toBeVisible();
  await expect(row).toHaveCount(1);
  await expect(page.getByTestId("users-error")).toHaveCount(0);
  // The emptied form asks for a role again.
  await expect(newRole).toHaveValue("");
  // Row buttons name their user to a screen reader, not only "Disable" in every row.
  await expect(row.getByRole("button", { name: `Disable ${loginName}`, exact: true })).toBeVisible();
  await expect(row.getByRole("button", { name: `Reset password of ${loginName}`, exact: true })).toBeVisible();

  // Cancelling the reason changes nothing.
  // Choosing a role asks nothing yet (arrow keys on a closed select change it); Apply asks.
  await row.getByTestId("user-role-select").selectOption("ADMIN");
  await expect(page.getByTestId("ask-dialog")).toBeHidden();
  await row.getByTestId("apply-role").click();
  await page.getByTestId("ask-cancel").click();
  await expect(page.getByTestId("ask-dialog")).toBeHidden();
  await expect(row.getByTestId("user-role-select")).toHaveValue("TECHNICIAN");
  // The Apply button is gone with the choice: focus goes to the role select, not to the page.
  await expect(row.getByTestId("user-role-select")).toBeFocused();

  await row.getByTestId("user-role-select").selectOption("AUDITOR");
  await row.getByTestId("apply-role").click();
  await answer(page, "Moved to the audit team");
  await expect(page.getByTestId("users-notice")).toHaveText(`${loginName} is now Auditor.`);
  await expect(row.getByTestId("user-role-select")).toHaveValue("AUDITOR");
  await expect(row.getByTestId("apply-role")).toHaveCount(0);
  await expect(row.getByTestId("user-role-select")).toBeFocused();

  // Password reset: masked, at least 10 characters, typed twice alike, then a reason.
  await row.getByTestId("reset-password").click();
  const input = page.getByTestId("ask-dialog").getByTestId("ask-input");
  const again = page.getByTestId("ask-dialog").getByTestId("ask-input-again");
  await expect(input).toHaveAttribute("type", "password");
  await expect(again).toHaveAttribute("type", "password");
  await input.fill("short");
  await expect(page.getByTestId("ask-submit")).toBeDisabled();
  await expect(page.getByTestId("ask-hint")).toHaveText("At least 10 characters.");
  await input.fill("replaced-pass-456");
  await expect(page.getByTestId("ask-submit")).toBeDisabled();
  await again.fill("replaced-pass-465");
  await expect(page.getByTestId("ask-submit")).toBeDisabled();
  await expect(page.getByTestId("ask-hint")).toHaveText("The two passwords differ.");
  await again.fill("replaced-pass-456");
  await expect(page.getByTestId("ask-hint")).toBeEmpty();
  await page.getByTestId("ask-submit").click();
  await answer(page, "Forgot the initial password");
  await expect(page.getByTestId("users-notice")).toContainText("Password of");
  await expect(row.getByTestId("user-temporary-password")).toBeVisible();

  // The new account signs in with its new role (a separate browser context). The password the
  // admin set is temporary: the app asks for the user's own before showing anything else.
  const other = await browser.newContext({ baseURL });
  const p2 = await other.newPage();
  await p2.goto("/login");
  await p2.getByTestId("login-username").fill(loginName);
  await p2.getByTestId("login-password").fill("replaced-pass-456");
  await p2.getByTestId("login-submit").click();
  await expect(p2.getByTestId("user-role")).toHaveAttribute("title", "AUDITOR");
  await expect(p2.getByTestId("temporary-password-notice")).toBeVisible();
  await p2.getByTestId("password-current").fill("replaced-pass-456");
  await p2.getByTestId("password-new").fill("own-secret-789");
  await p2.getByTestId("password-confirm").fill("own-secret-780");
  await p2.getByTestId("password-submit").click();
  await expect(p2.getByTestId("password-error")).toContainText("differ");
  await p2.getByTestId("password-confirm").fill("own-secret-789");
  await p2.getByTestId("password-submit").click();
  await expect(p2.getByTestId("password-changed")).toBeVisible();
  await p2.getByTestId("login-username").fill(loginName);
  await p2.getByTestId("login-password").fill("own-secret-789");
  await p2.getByTestId("login-submit").click();
  await expect(p2.getByTestId("user-role")).toHaveAttribute("title", "AUDITOR");
  await expect(p2.getByTestId("temporary-password-notice")).toBeHidden();
  await expect(p2.locator(`[data-testid="worklist"], [data-testid="worklist-empty"]`)).toBeVisible();
  await page.reload();
  await expect(row.getByTestId("user-temporary-password")).toHaveCount(0);

  // A locked-out account (as after five wrong passwords) is unlocked with a reason.
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  await db.query(`UPDATE "user" SET "failedLogins" = 5, "lockedUntil" = now() + interval '15 minutes' WHERE login = $1`, [loginName]);
  await db.end();
  await page.reload();
  await expect(row.getByTestId("user-locked")).toBeVisible();
  await expect(row.getByRole("button", { name: `Unlock ${loginName}`, exact: true })).toBeVisible();
  await row.getByTestId("unlock-user").click();
  await answer(page, "Verified by phone");
  await expect(page.getByTestId("users-notice")).toContainText(`${loginName} unlocked.`);
  await expect(row.getByTestId("user-locked")).toHaveCount(0);

  // From the keyboard: focus comes back to the row's button once the action is done (it was
  // disabled meanwhile, which dropped focus to the page).
  await row.getByTestId("toggle-disabled").focus();
  await page.keyboard.press("Enter");
  // Said before it happens: the user is signed out at once.
  await expect(page.getByTestId("ask-message")).toContainText("open sessions end immediately");
  await answer(page, "Left the hospital");
  await expect(row).toContainText("disabled");
  await expect(row.getByTestId("toggle-disabled")).toBeFocused();
  await expect(row.getByRole("button", { name: `Enable ${loginName}`, exact: true })).toBeVisible();

  // Disabling revokes the session at once: the next API call is refused and the user is sent to sign in.
  // That call may be this navigation or the open worklist's own poll; when the poll wins, its
  // redirect interrupts the navigation, and both paths must end at the sign-in page.
  await p2.goto("/audit").catch((e: Error) => {
    if (!/interrupted by another navigation/.test(e.message)) throw e;
  });
  await expect(p2).toHaveURL(/\/login/);
  await p2.getByTestId("login-username").fill(loginName);
  await p2.getByTestId("login-password").fill("own-secret-789");
  await p2.getByTestId("login-submit").click();
  await expect(p2.getByTestId("login-error")).toBeVisible();
  await other.close();
});

test("admin finds an account by a piece of its name and role; a filter that leaves nobody says so and clears", async ({ page }) => {
  await login(page, "admin");
  await page.goto("/users");
  const rows = page.getByTestId("user-row");
  await expect(rows.first()).toBeVisible();
  // Another test may create an account meanwhile: the count is read, not assumed.
  await expect(page.getByTestId("users-filter-count")).toHaveText(/^\d+ accounts$/);
  // Words in any order and case, over login, name and role label.
  await page.getByTestId("users-filter-text").fill("HEMATO hema");
  await expect(page.locator('[data-testid="user-row"][data-login="hema"]')).toBeVisible();
  await expect(page.locator('[data-testid="user-row"][data-login="admin"]')).toHaveCount(0);
  await expect(page.getByTestId("users-filter-count")).toHaveText(/^\d+ of \d+ accounts$/);
  await page.getByTestId("users-filter-text").fill("");
  await page.getByTestId("users-filter-role").selectOption("AUDITOR");
  await expect(page.locator('[data-testid="user-row"][data-login="auditor"]')).toBeVisible();
  await expect(page.locator('[data-testid="user-row"][data-login="hema"]')).toHaveCount(0);
  await page.getByTestId("users-filter-text").fill("no-such-account-anywhere");
  await expect(rows).toHaveCount(0);
  await expect(page.getByTestId("users-none-match")).toBeVisible();
  await page.getByTestId("users-none-match").getByRole("button", { name: "Clear the filter" }).click();
  await expect(page.locator('[data-testid="user-row"][data-login="admin"]')).toBeVisible();
  await expect(page.getByTestId("users-filter-count")).toHaveText(/^\d+ accounts$/);
});
