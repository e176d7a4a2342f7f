// How long a password lives (21 CFR 11.300(b): passwords are periodically revised). A password
// older than the install allows must be replaced before anything else, as a temporary one must;
// a temporary password (set by an administrator) that its owner has not replaced in time no
// longer signs in at all: an administrator sets a new one.
import type { User } from "@rcmnet/db";
import type { Env } from "../env.ts";

const HOUR = 3_600_000;

type Dates = Pick<User, "passwordChangedAt">;

/** When the password becomes too old: RCMNET_PASSWORD_MAX_AGE_DAYS after it was set (null: passwords never age). */
export function passwordExpiresAt(user: Dates, env: Pick<Env, "passwordMaxAgeDays">): Date | null {
  return env.passwordMaxAgeDays > 0 ? new Date(user.passwordChangedAt.getTime() + env.passwordMaxAgeDays * 24 * HOUR) : null;
}

/** Older than RCMNET_PASSWORD_MAX_AGE_DAYS. */
export function passwordAged(user: Dates, env: Pick<Env, "passwordMaxAgeDays">, now = Date.now()): boolean {
  const expiresAt = passwordExpiresAt(user, env);
  return expiresAt !== null && now > expiresAt.getTime();
}

/** Must choose a new password before doing anything else: a temporary one, or one too old. */
export function mustChangePasswordNow(user: Dates & Pick<User, "mustChangePassword">, env: Pick<Env, "passwordMaxAgeDays">, now = Date.now()): boolean {
  return user.mustChangePassword || passwordAged(user, env, now);
}

/** A temporary password set before this has expired (RCMNET_TEMPORARY_PASSWORD_HOURS ago). */
export function temporaryPasswordsSetBefore(env: Pick<Env, "temporaryPasswordHours">, now = Date.now()): Date {
  return new Date(now - env.temporaryPasswordHours * HOUR);
}

/** A temporary password not replaced within RCMNET_TEMPORARY_PASSWORD_HOURS of being set. */
export function temporaryPasswordExpired(user: Dates & Pick<User, "mustChangePassword">, env: Pick<Env, "temporaryPasswordHours">, now = Date.now()): boolean {
  return user.mustChangePassword && user.passwordChangedAt < temporaryPasswordsSetBefore(env, now);
}
