// Roles and the web app's page policy. Pure (no server imports): the proxy, server pages and
// the navigation all read the same table, so a link is shown exactly when the page would open.
// Authorization fails closed: an unknown role string or a missing claim parses to null, and
// null holds no permission.

export const ROLES = ["ADMIN", "HEMATOLOGIST", "TECHNICIAN", "DATA_SCIENTIST", "AUDITOR"] as const;
export type Role = (typeof ROLES)[number];

export function parseRole(value: unknown): Role | null {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value) ? (value as Role) : null;
}

export const ROLE_LABEL: Record<Role, string> = {
  ADMIN: "Administrator",
  HEMATOLOGIST: "Hematologist",
  TECHNICIAN: "Technician",
  DATA_SCIENTIST: "Data scientist",
  AUDITOR: "Auditor",
};

export type PageKey = "worklist" | "upload" | "review" | "report" | "audit" | "models" | "retraining" | "users" | "account";

/** Who may open each page. Anything not listed here is denied. */
export const PAGE_ROLES: Record<PageKey, readonly Role[]> = {
  worklist: ROLES,
  upload: ["TECHNICIAN"],
  review: ["HEMATOLOGIST"],
  report: ["HEMATOLOGIST", "AUDITOR", "ADMIN", "TECHNICIAN"],
  audit: ["AUDITOR", "ADMIN"],
  models: ["DATA_SCIENTIST", "ADMIN"],
  retraining: ["DATA_SCIENTIST"],
  users: ["ADMIN"],
  // Everyone's own password.
  account: ROLES,
};

export function canOpen(page: PageKey, role: Role | null | undefined): boolean {
  if (!role) return false;
  const allowed = PAGE_ROLES[page] as readonly string[] | undefined;
  return allowed !== undefined && allowed.includes(role);
}

export const NAV: { page: PageKey; href: string; label: string }[] = [
  { page: "worklist", href: "/worklist", label: "Worklist" },
  { page: "upload", href: "/upload", label: "Upload" },
  { page: "audit", href: "/audit", label: "Audit trail" },
  { page: "models", href: "/models", label: "Models" },
  { page: "retraining", href: "/retraining", label: "Retraining" },
  { page: "users", href: "/users", label: "Users" },
];
