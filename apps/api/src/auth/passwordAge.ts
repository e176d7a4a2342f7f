// How long a password lives (21 CFR 11.300(b): passwords are periodically revised). A password
// older than the install allows must be replaced before anything else, as a temporary one must;
// a temporary password (set by an administrator) that its owner has not replaced in time no
// longer signs in at all: an administrator sets a new one.
import type { User } from "@rcmnet/db";
import type { Env } from "../env.ts";

const HOUR = 3_600_000;

type Dates = Pick<User, "passwordChangedAt">;

/** Older than RCMNET_PASSWORD_MAX_AGE_DAYS (0: passwords never age). */
export function passwordAged(user: Dates, env: Pick<Env, "passwordMaxAgeDays">, now = Date.now()): boolean {
  return env.passwordMaxAgeDays > 0 && now - user.passwordChangedAt.getTime() > env.passwordMaxAgeDays * 24 * HOUR;
}

/** When the password becomes too old (null: passwords never age). */
export function passwordExpiresAt(user: Dates, env: Pick<Env, "passwordMaxAgeDays">): Date | null {
  return env.passwordMaxAgeDays > 0 ? new Date(user.passwordChangedAt.getTime() + env.passwordMaxAgeDays * 24 * HOUR) : null;
}

/** Must choose a new password before doing anything else: a temporary one, or one too old. */
export function mustChangePasswordNow(user: Dates & Pick<User, "mustChangePassword">, env: Pick<Env, "passwordMaxAgeDays">, now = Date.now()): boolean {
  return user.mustChangePassword || passwordAged(user, env, now);
}

/** A temporary password not replaced within RCMNET_TEMPORARY_PASSWORD_HOURS of being set. */
export function temporaryPasswordExpired(user: Dates & Pick<User, "mustChangePassword">, env: Pick<Env, "temporaryPasswordHours">, now = Date.now()): boolean {
  return user.mustChangePassword && now - user.passwordChangedAt.getTime() > env.temporaryPasswordHours * HOUR;
}
