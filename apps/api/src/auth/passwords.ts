// argon2id (OWASP 2024 minimum: m=19 MiB, t=2, p=1), the library's defaults.
import { hash, verify } from "@node-rs/argon2";
import { badInput } from "../errors.ts";

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

/** Previous passwords a new one of the owner's must differ from, besides the current one. */
export const PASSWORD_HISTORY = 4;

/**
 * Words people build passwords on, the first a guesser tries with digits and symbols around them
 * (NIST SP 800-63B 5.1.1.2: refuse commonly used and context-specific passwords). Compared with
 * what is left once leading and trailing digits and symbols are taken off.
 */
const COMMON_ROOTS = new Set([
  "password", "passwort", "passw0rd", "p@ssw0rd", "qwerty", "qwertyuiop", "qwertz", "azerty", "asdfgh", "asdfghjkl",
  "zxcvbnm", "letmein", "welcome", "admin", "administrator", "iloveyou", "changeme", "secret", "monkey", "dragon",
  "football", "baseball", "sunshine", "princess", "trustno", "starwars", "superman", "master", "hello", "freedom",
  "whatever", "qazwsx", "zaq", "qwe", "abc", "abcdef", "abcdefgh", "login", "user", "test", "default", "summer",
  "winter", "spring", "autumn", "january", "february", "march", "april", "august", "september", "october",
  "november", "december", "monday", "friday", "hospital", "clinic", "laboratory", "hematology", "haematology",
  "rcmnet", "cart", "leukemia", "leukaemia", "doctor", "nurse",
]);

/** Who the password is for: neither their login nor a part of their name may be in it. */
export interface PasswordOwner {
  login?: string;
  displayName?: string;
}

export function assertPasswordPolicy(password: string, owner: PasswordOwner = {}): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw badInput(`Password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  // Bounded so that hashing cannot be used to burn CPU.
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw badInput(`Password must have at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  const lower = password.toLowerCase();
  if (new Set(lower).size < 4) throw badInput("Password is too repetitive: use at least 4 different characters");
  const root = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, "");
  // Digits and symbols alone: a date, a phone number. A long random PIN is another matter.
  if (COMMON_ROOTS.has(root) || (password.length < 16 && /^[\d\s\p{P}\p{S}]+$/u.test(lower))) {
    throw badInput("Password is too easy to guess (a common word, or a short run of digits and symbols): choose a phrase of your own");
  }
  // Whole words, not any substring: "Lee" may still sleep, and "Data" use a database.
  const words = new Set(lower.split(/[^\p{L}\p{N}]+/u));
  const login = owner.login?.trim().toLowerCase();
  if (login && (words.has(login) || (login.length >= 5 && lower.includes(login)) || login.split(/[^\p{L}\p{N}]+/u).some((w) => w.length >= 3 && words.has(w)))) {
    throw badInput("Password must not contain your login");
  }
  const nameParts = (owner.displayName ?? "").toLowerCase().split(/[^\p{L}]+/u).filter((part) => part.length >= 3);
  if (nameParts.some((part) => words.has(part))) throw badInput("Password must not contain your name");
}

/** True when `password` is the current one or one of the previous ones kept (`history`). */
export async function isRecentPassword(password: string, currentHash: string, history: readonly string[]): Promise<boolean> {
  for (const old of [currentHash, ...history.slice(0, PASSWORD_HISTORY)]) if (await verifyPassword(old, password)) return true;
  return false;
}

/** The history once `replacedHash` (the password in force until now) is replaced: newest first, bounded. */
export function historyAfterChange(replacedHash: string, history: readonly string[]): string[] {
  return [replacedHash, ...history].slice(0, PASSWORD_HISTORY);
}

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) return false;
  try {
    return await verify(passwordHash, password);
  } catch {
    // A malformed stored hash is a refusal, never a pass.
    return false;
  }
}

/** Verified against when the login does not exist, so both paths cost the same time. */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hash("rcmnet-timing-equaliser");
  return dummyHash;
}
