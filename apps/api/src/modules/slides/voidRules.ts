/**
 * Who may void an image and how long its reason is, shared with the dashboard's review page
 * (`@rcmnet/api/voidRules`): the page offers the button and checks the reason exactly as the API
 * decides. No imports: the page bundles this file into the browser.
 */

/** TECHNICIAN uploads images, HEMATOLOGIST reviews them: each may find one that does not belong. */
export const VOID_ROLES = ["TECHNICIAN", "HEMATOLOGIST"] as const;

/** The reason, trimmed: read by everyone who later wonders where the image's cells went. */
export const VOID_REASON_LENGTH = { min: 3, max: 500 } as const;
