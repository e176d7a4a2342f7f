// ADMIN manages accounts; every change carries a reason (audited by the API).
import { expect, login, test } from "../support/fixtures";

test("admin creates a user, changes the role, and a disabled user can no longer sign in", async ({ page, browser, baseURL }) => {
  await login(page, "admin");
  await page.goto("/users");
  const loginName = `e2e${Date.now().toString(36)}`;
  await page.getByTestId("new-user-login").fill(loginName);
  await page.getByTestId("new-user-name").fill("Erin Example");
  await page.getByTestId("new-user-role").selectOption("TECHNICIAN");
  await page.getByTestId("new-user-password").fill("initial-pass-123");
  await page.getByTestId("create-user").click();
  const row = page.locator(`[data-testid="user-row"][data-login="${loginName}"]`);
  await expect(row).toBeVisible();

  page.once("dialog", (d) => void d.accept("Moved to the audit team"));
  await row.getByTestId("user-role-select").selectOption("AUDITOR");
  await expect(page.getByTestId("users-notice")).toContainText("AUDITOR");
  await expect(row.getByTestId("user-role-select")).toHaveValue("AUDITOR");

  // The new account signs in with its new role (a separate browser context).
  const other = await browser.newContext({ baseURL });
  const p2 = await other.newPage();
  await p2.goto("/login");
  await p2.getByTestId("login-username").fill(loginName);
  await p2.getByTestId("login-password").fill("initial-pass-123");
  await p2.getByTestId("login-submit").click();
  await expect(p2.getByTestId("user-role")).toHaveAttribute("title", "AUDITOR");

  page.once("dialog", (d) => void d.accept("Left the hospital"));
  await row.getByTestId("toggle-disabled").click();
  await expect(row).toContainText("disabled");

  // Disabling revokes the session at once: the next API call is refused and the user is sent to sign in.
  // That call may be this navigation or the open worklist's own poll; when the poll wins, its
  // redirect interrupts the navigation, and both paths must end at the sign-in page.
  await p2.goto("/audit").catch((e: Error) => {
    if (!/interrupted by another navigation/.test(e.message)) throw e;
  });
  await expect(p2).toHaveURL(/\/login/);
  await p2.getByTestId("login-username").fill(loginName);
  await p2.getByTestId("login-password").fill("initial-pass-123");
  await p2.getByTestId("login-submit").click();
  await expect(p2.getByTestId("login-error")).toBeVisible();
  await other.close();
});
