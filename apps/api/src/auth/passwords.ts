// argon2id (OWASP 2024 minimum: m=19 MiB, t=2, p=1), the library's defaults.
import { hash, verify } from "@node-rs/argon2";
import { badInput } from "../errors.ts";

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

export function assertPasswordPolicy(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw badInput(`Password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  // Bounded so that hashing cannot be used to burn CPU.
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw badInput(`Password must have at most ${MAX_PASSWORD_LENGTH} characters`);
  }
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
