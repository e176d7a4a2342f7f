import { AuditChainVerifier, type AuditVerification, type PrismaClient } from "@rcmnet/db";
import type { Env } from "../../env.ts";

/**
 * A full walk re-hashes every event of the trail (seconds at a million events): one that finished
 * less than this long ago is answered again, with its time, rather than walked anew.
 */
export const FULL_WALK_MIN_INTERVAL_MS = 5 * 60 * 1000;

/**
 * The chain verifier, with full walks asked for on request rate-limited (FULL_WALK_MIN_INTERVAL_MS):
 * within that time a full request is answered with the last full walk's verdict, but only a walk
 * that passed or a break of the chain is kept. A failure of the anchor file or of the anchors'
 * recency is a matter of minutes (the file put back, the workers writing again): not kept, so the
 * next request walks again; and a kept pass is answered with its recency checked anew (the
 * file's tail and one query), so that anchoring that stopped since is not hidden for 5 minutes.
 */
export class ThrottledChainVerifier {
  private readonly verifier: AuditChainVerifier;
  /** The last full walk that passed and when it finished, or the first broken verdict (which stays the answer). */
  private recent: { verdict: AuditVerification; finishedAt: number } | null = null;

  /**
   * `anchorFile`: the chain heads the worker copied outside the database (RCMNET_AUDIT_ANCHOR_FILE);
   * `anchorMinutes`: how often the workers copy them (RCMNET_AUDIT_ANCHOR_MINUTES), for a file
   * whose lines do not declare it (0: not checked, which fails once anchoring is recorded).
   */
  constructor(anchorFile: string | null = null, anchorMinutes?: number) {
    this.verifier = new AuditChainVerifier(undefined, anchorFile, anchorMinutes);
  }

  async verify(prisma: PrismaClient, { full = false } = {}): Promise<AuditVerification> {
    const recent = this.recent;
    if (full && recent && Date.now() - recent.finishedAt < FULL_WALK_MIN_INTERVAL_MS) {
      if (recent.verdict.firstBrokenSeq !== null) return recent.verdict;
      const anchorRecency = await this.verifier.recency(prisma);
      return anchorRecency.problem ? { ...recent.verdict, ok: false, problem: anchorRecency.problem, anchorRecency } : { ...recent.verdict, anchorRecency };
    }
    const verdict = await this.verifier.verify(prisma, { full });
    // A walk the verifier made full on its own (the first check, hourly) counts too. A break, once
    // seen, is kept: a cached older "ok" must never be answered over it.
    if (verdict.firstBrokenSeq !== null) this.recent = { verdict, finishedAt: Date.now() };
    else if (verdict.full) this.recent = verdict.ok ? { verdict, finishedAt: Date.now() } : null;
    return verdict;
  }
}

// One verifier per database client, so that what it has verified is remembered across requests
// (and never carried from one database to another, as in tests).
const verifiers = new WeakMap<PrismaClient, ThrottledChainVerifier>();

/**
 * The audit chain verifier for this database (the first check walks the whole chain), checking
 * the anchors in env.auditAnchorFile too, and that the newest is recent for anchors every
 * env.auditAnchorMinutes (the workers' RCMNET_AUDIT_ANCHOR_MINUTES: give the API the same).
 */
export function chainVerifier(prisma: PrismaClient, env: Pick<Env, "auditAnchorFile" | "auditAnchorMinutes">): ThrottledChainVerifier {
  let verifier = verifiers.get(prisma);
  if (!verifier) {
    verifier = new ThrottledChainVerifier(env.auditAnchorFile, env.auditAnchorMinutes);
    verifiers.set(prisma, verifier);
  }
  return verifier;
}
