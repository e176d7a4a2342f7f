// A password an administrator sets is typed into masked fields, where a slip of the finger cannot
// be seen: typed twice, it is sent only once both agree. Otherwise the account would get a password
// nobody knows, and need another reset.

/** The API's minimum length (its password policy may refuse more). */
export const NEW_PASSWORD_MIN_LENGTH = 10;

/** Why the new password typed twice cannot be sent yet (shown beside the disabled button), or null. */
export function newPasswordProblem(password: string, again: string, minLength = NEW_PASSWORD_MIN_LENGTH): string | null {
  if (password.length < minLength) return `At least ${minLength} characters.`;
  if (again !== password) return again ? "The two passwords differ." : "Type the password again to confirm it.";
  return null;
}
