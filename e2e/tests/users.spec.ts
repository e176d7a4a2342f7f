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
  await page.getByTestId("new-user-role").selectOption("TECHNICIAN");
  await page.getByTestId("new-user-password").fill("initial-pass-123");
  // A double-click creates one user, not one and an "already exists" error.
  await page.getByTestId("create-user").dblclick();
  const row = page.locator(`[data-testid="user-row"][data-login="${loginName}"]`);
  await expect(row).toBeVisible();
  await expect(row).toHaveCount(1);
  await expect(page.getByTestId("users-error")).toHaveCount(0);

  // Cancelling the reason changes nothing.
  // Choosing a role asks nothing yet (arrow keys on a closed select change it); Apply asks.
  await row.getByTestId("user-role-select").selectOption("ADMIN");
  await expect(page.getByTestId("ask-dialog")).toBeHidden();
  await row.getByTestId("apply-role").click();
  await page.getByTestId("ask-cancel").click();
  await expect(page.getByTestId("ask-dialog")).toBeHidden();
  await expect(row.getByTestId("user-role-select")).toHaveValue("TECHNICIAN");

  await row.getByTestId("user-role-select").selectOption("AUDITOR");
  await row.getByTestId("apply-role").click();
  await answer(page, "Moved to the audit team");
  await expect(page.getByTestId("users-notice")).toContainText("AUDITOR");
  await expect(row.getByTestId("user-role-select")).toHaveValue("AUDITOR");

  // Password reset: masked, at least 10 characters, then a reason.
  await row.getByTestId("reset-password").click();
  const input = page.getByTestId("ask-dialog").getByTestId("ask-input");
  await expect(input).toHaveAttribute("type", "password");
  await input.fill("short");
  await expect(page.getByTestId("ask-submit")).toBeDisabled();
  await answer(page, "replaced-pass-456");
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
  await row.getByTestId("unlock-user").click();
  await answer(page, "Verified by phone");
  await expect(page.getByTestId("users-notice")).toContainText(`${loginName} unlocked.`);
  await expect(row.getByTestId("user-locked")).toHaveCount(0);

  // From the keyboard: focus comes back to the row's button once the action is done (it was
  // disabled meanwhile, which dropped focus to the page).
  await row.getByTestId("toggle-disabled").focus();
  await page.keyboard.press("Enter");
  await answer(page, "Left the hospital");
  await expect(row).toContainText("disabled");
  await expect(row.getByTestId("toggle-disabled")).toBeFocused();

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
