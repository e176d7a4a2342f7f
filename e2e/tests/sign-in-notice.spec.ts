import { expect, signIn, test } from "../support/fixtures";

test("after signing in, the owner sees when the account last signed in, until dismissed", async ({ page }) => {
  // Two sign-ins of its own: the second has a first to look back on (the cached sessions of the
  // other tests are not touched).
  await signIn(page, "auditor");
  await signIn(page, "auditor");
  const notice = page.getByTestId("sign-in-notice");
  await expect(notice).toContainText(/^Your previous sign-in: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\./);
  await expect(notice).toContainText("Not you? Tell your administrator.");
  await page.getByTestId("sign-in-notice-dismiss").click();
  await expect(notice).toBeHidden();
  // Dismissed for this sign-in: not back on the next page.
  await page.reload();
  await expect(page.getByTestId("user-role")).toBeVisible();
  await expect(notice).toBeHidden();
});
