// A signature whose answer was lost. The request may have reached the API and committed before the
// connection failed (or a proxy answered 502 in its place): saying "not completed" then sends the
// signer to sign again, to be told "already signed", with no way to tell which is true. So the page
// reads the case back and says what happened.
import { ApiError } from "@/lib/errors";

export interface CaseSignature {
  reportVersion: number;
  currentSignOff: { version: number; signer: { login: string } } | null;
}

/**
 * An error after which the API may have acted: the connection failed, or the answer was no
 * GraphQL answer. A refusal the API stated (CONFLICT, FORBIDDEN, …) changed nothing.
 */
export function outcomeUnknown(err: unknown): boolean {
  return !(err instanceof ApiError) || err.code === "NETWORK" || err.code === "INTERNAL";
}

/**
 * The case read back shows this signature: the version after the one the page was at, signed by
 * this user (from another tab too: the case is signed by them either way).
 */
export function signatureLanded(read: CaseSignature | null, versionBefore: number, me: string): boolean {
  const next = versionBefore + 1;
  return read !== null && read.reportVersion === next && read.currentSignOff?.version === next && read.currentSignOff.signer.login === me;
}

/**
 * When the case is read back after such an error (ms after the previous read): the request may
 * still be running upstream (a proxy gave up on it, the browser's connection dropped), so one
 * read right away could miss a signature that commits a moment later.
 */
export const READ_BACK_DELAYS_MS = [0, 1_000, 3_000] as const;

/**
 * Reads the case back after each delay until it shows this signature (true), or the delays run
 * out (false). A read that fails counts as not shown: the connection may still be down.
 */
export async function signatureLandedAfterAll(
  read: () => Promise<CaseSignature | null>,
  versionBefore: number,
  me: string,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  delays: readonly number[] = READ_BACK_DELAYS_MS,
): Promise<boolean> {
  for (const delay of delays) {
    await wait(delay);
    const seen = await read().catch(() => null);
    if (signatureLanded(seen, versionBefore, me)) return true;
  }
  return false;
}

/** Where the read-backs did not show the signature: what the signer must do before signing again. */
export const SIGNATURE_UNKNOWN =
  "The connection failed while signing, so it is not known whether your signature was recorded. Reload the case before signing again: a second signature of the same version is refused, never recorded twice.";
