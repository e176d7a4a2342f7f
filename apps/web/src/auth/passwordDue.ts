/**
 * Whether the signed-in user must choose a new password before anything else: one an
 * administrator set, or one that became too old, at sign-in or since (a password can age during
 * an 8-hour session; the API then refuses everything but the change).
 */
export function passwordChangeDue(mustChangePassword: unknown, passwordExpiresAt: number | null, now = Date.now()): boolean {
  return mustChangePassword === true || (passwordExpiresAt !== null && passwordExpiresAt <= now);
}
