// A production worker's check of its database role (docs/decisions.md D2) before its first claim.
// The refusal stops it, and so does a DATABASE_URL that can never work (a wrong password, an
// unknown role or database: permanentDatabaseFault); a database restarting, or one the API has not
// migrated yet (a worker started on its own before the API), is waited for, as the worker loop
// waits out such errors.
import { setTimeout as delay } from "node:timers/promises";
import { PlatformRoleError } from "@rcmnet/db";
import { permanentDatabaseFault } from "./permanentDatabaseFault.ts";
import type { JobLogger } from "./types.ts";

export const FIRST_RETRY_MS = 1000;
export const MAX_RETRY_MS = 30_000;

/**
 * Runs `check` (checkPlatformRole) until it answers: its warning is logged; a PlatformRoleError or
 * a permanent database fault is logged as one line and `exit(2)`; any other error is logged as one
 * line and tried again after 1 s, doubling to 30 s.
 */
export async function checkRoleBeforeWork(
  check: () => Promise<string | null>,
  options: { log: JobLogger; sleep?: (ms: number) => Promise<unknown>; exit?: (code: number) => void },
): Promise<void> {
  const { log, sleep = delay, exit = (code: number) => process.exit(code) } = options;
  for (let wait = FIRST_RETRY_MS; ; wait = Math.min(wait * 2, MAX_RETRY_MS)) {
    try {
      const warning = await check();
      if (warning) log.warn(warning);
      return;
    } catch (err) {
      if (err instanceof PlatformRoleError) {
        log.error(err.message);
        exit(2);
        return;
      }
      const fault = permanentDatabaseFault(err);
      if (fault) {
        log.error(`worker not started: ${fault.message}`, { sqlstate: fault.sqlstate });
        exit(2);
        return;
      }
      log.warn("database role not checked yet (database unreachable or not migrated?); trying again", {
        error: err instanceof Error ? err.message : String(err),
        retryInMs: wait,
      });
      await sleep(wait);
    }
  }
}
