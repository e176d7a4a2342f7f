// Which accounts the users table shows: a lab with a few hundred accounts (every rotation's
// residents, departed staff kept disabled for the audit trail) must find one by a piece of its
// login or name, by role, or by what needs the administrator (locked, new password due).
import { ROLE_LABEL, type Role } from "@/auth/roles";

export type UserState = "all" | "active" | "disabled" | "attention";

export interface UserFilter {
  text: string;
  role: Role | "";
  state: UserState;
}

export const NO_FILTER: UserFilter = { text: "", role: "", state: "all" };

export interface FilterableUser {
  login: string;
  displayName: string;
  role: Role;
  disabled: boolean;
  lockedUntil: string | null;
  mustChangePassword: boolean | null;
}

/** Compatibility-folded, accent-free, lower case, spaces collapsed: "Émile  Zola" is found by "emile zola". */
export function fold(s: string): string {
  return s.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().replace(/\s+/g, " ").trim();
}

/** Locked out now, or its owner must choose a new password: what an administrator acts on. */
export function needsAttention(u: FilterableUser, now = Date.now()): boolean {
  const locked = u.lockedUntil !== null && Date.parse(u.lockedUntil) > now;
  return !u.disabled && (locked || Boolean(u.mustChangePassword));
}

export function matchesUser(u: FilterableUser, f: UserFilter, now = Date.now()): boolean {
  if (f.role && u.role !== f.role) return false;
  if (f.state === "active" && u.disabled) return false;
  if (f.state === "disabled" && !u.disabled) return false;
  if (f.state === "attention" && !needsAttention(u, now)) return false;
  const words = fold(f.text).split(" ").filter(Boolean);
  if (words.length === 0) return true;
  // Every word somewhere in the login, the name or the role's label: "sarah hem" finds Dr Sarah
  // Lee, hematologist.
  const haystack = fold(`${u.login} ${u.displayName} ${ROLE_LABEL[u.role] ?? u.role}`);
  return words.every((w) => haystack.includes(w));
}

export function isFiltered(f: UserFilter): boolean {
  return f.text.trim() !== "" || f.role !== "" || f.state !== "all";
}
