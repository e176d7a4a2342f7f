// Step two of the two-person rule: an ADMIN who did not propose approves or rejects. On
// approval the target becomes the champion in the same transaction as the decision.
// "Another person" means an independent one: an admin who created the proposer's account, set
// its password or changed its role (the audit trail says so) could have proposed through it, and
// a proposer who did so to the decider's account could decide through that.
import type { ModelPromotion, ModelVersion, Prisma, PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { badInput, conflict, forbidden, notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { MAX_REASON } from "./proposePromotion.ts";
import { lockChampion } from "./championLock.ts";
import { setChampion } from "./setChampion.ts";
import { assertKeepsClasses } from "./keepsClasses.ts";
import { comparedOnSnapshotId } from "./promotionEvidence.ts";
import { relabelledTestCells } from "./relabelledTest.ts";
import { noLongerHeld } from "../training/noLongerHeld.ts";
import { inspectModelDir } from "../../jobs/model/modelRuntime.ts";
import { resolveModelDir, unregisteredChange } from "../../jobs/model/classifierCache.ts";
import { databaseNow } from "../../lib/databaseNow.ts";

/** Audit actions by which an admin controls another account's credentials or role (manageUsers.ts). */
const CREDENTIAL_ACTIONS = ["user.create", "user.reset_password", "user.change_role"] as const;

/**
 * Whether account `by` controls account `of`, directly or through a chain of accounts, by the
 * audit trail's credential events (each account `by` created, reset or re-roled, then each of
 * theirs, ...). UNION keeps the walk finite on cycles.
 */
async function controls(tx: Pick<PrismaClient, "$queryRaw">, by: string, of: string): Promise<boolean> {
  const [row] = await tx.$queryRaw<[{ found: boolean }]>`
    WITH RECURSIVE controlled(id) AS (
      SELECT ${by}::text
      UNION
      SELECT ae."entityId" FROM audit_event ae JOIN controlled c ON ae."actorId"::text = c.id
      WHERE ae."entityType" = 'User' AND ae.action = ANY(${[...CREDENTIAL_ACTIONS]}::text[])
    )
    SELECT EXISTS (SELECT 1 FROM controlled WHERE id = ${of}::text AND id <> ${by}::text) AS found`;
  return row.found;
}

export async function decidePromotion(
  prisma: PrismaClient,
  dataDir: string,
  actor: AuthUser,
  input: { id: string; approve: boolean; note?: string | null },
): Promise<ModelPromotion> {
  const note = input.note?.trim() || null;
  if (!input.approve && !note) throw badInput("A note is required to reject a proposal", { field: "note" });
  if (note && note.length > MAX_REASON)
    throw badInput(`The note must have at most ${MAX_REASON} characters`, { field: "note" });
  if (!isUuid(input.id)) throw notFound("Promotion proposal");

  return prisma.$transaction(async (tx) => {
    const promotion = await tx.modelPromotion.findUnique({
      where: { id: input.id },
      include: { modelVersion: true },
    });
    if (!promotion) throw notFound("Promotion proposal");
    if (promotion.proposedById === actor.id) {
      throw forbidden("Two-person rule: the proposal must be decided by someone other than its proposer");
    }
    // Both ways: an admin who proposed (a rollback) and then created or reset an admin account
    // knows its first password, and could decide through it. And through chains of accounts:
    // A creates admin B and takes it over with its first password, B creates C; A controls C.
    const [deciderControls, proposerControls] = await Promise.all([
      controls(tx, actor.id, promotion.proposedById),
      controls(tx, promotion.proposedById, actor.id),
    ]);
    if (deciderControls) {
      throw forbidden(
        "Two-person rule: you created, reset the password of, or changed the role of the proposer's account (or of an account that did so); another admin must decide",
      );
    }
    if (proposerControls) {
      throw forbidden(
        "Two-person rule: the proposer created, reset the password of, or changed the role of your account (or of an account that did so); another admin must decide",
      );
    }
    // Only one decision wins, even for two admins clicking at once. Its time is the database's:
    // which rollback last took a model out of service is read by decidedAt (withdrawn.ts).
    const decidedAt = await databaseNow(tx);
    const decided = await tx.modelPromotion.updateMany({
      where: { id: promotion.id, state: "PROPOSED" },
      data: {
        state: input.approve ? "APPROVED" : "REJECTED",
        decidedById: actor.id,
        decidedAt,
        decisionNote: note,
      },
    });
    if (decided.count === 0) throw conflict(`This proposal was already ${promotion.state.toLowerCase()}`);

    let target = promotion.modelVersion;
    if (input.approve) {
      // Under the champion lock, so that what is checked here is what setChampion replaces.
      await lockChampion(tx);
      const champion = await tx.modelVersion.findFirst({ where: { status: "CHAMPION" }, select: { id: true, name: true, version: true } });
      if ((champion?.id ?? null) !== promotion.replacesChampionId) {
        throw conflict(
          `The champion has changed since this was proposed (now ${champion ? `${champion.name} ${champion.version}` : "none"}): compare against it and propose again`,
        );
      }
      target = await tx.modelVersion.findUniqueOrThrow({ where: { id: target.id } });
      const expected = promotion.kind === "PROMOTE" ? "CANDIDATE" : "ARCHIVED";
      if (target.status !== expected) {
        throw conflict(
          `${target.name} ${target.version} is ${target.status} now, not ${expected}: propose again`,
        );
      }
      await assertArtifactIntact(dataDir, target);
      if (promotion.kind === "PROMOTE") {
        assertKeepsClasses(target, await tx.modelVersion.findFirst({ where: { status: "CHAMPION" } }));
        await assertTestLabelsCurrent(tx, promotion);
      }
      await setChampion(tx, actor, target, `${promotion.kind.toLowerCase()} approved: ${promotion.reason}`);
    }
    await recordAudit(tx, actor, {
      action: input.approve ? "model.approvePromotion" : "model.rejectPromotion",
      entityType: "ModelPromotion",
      entityId: promotion.id,
      before: { state: "PROPOSED" },
      after: {
        state: input.approve ? "APPROVED" : "REJECTED",
        kind: promotion.kind,
        modelVersionId: target.id,
      },
      reason: note,
    });
    return tx.modelPromotion.findUniqueOrThrow({ where: { id: promotion.id } });
  });
}

/**
 * The figures the approver weighs were measured when the proposal was filed: a cell of that TEST
 * part relabelled by an amendment since then, its image voided or its case's report retracted
 * (staleItems.ts) means both models were scored against labels the platform no longer holds
 * (proposePromotion refuses the same at filing time).
 */
async function assertTestLabelsCurrent(tx: Prisma.TransactionClient, promotion: ModelPromotion) {
  const snapshotId = await comparedOnSnapshotId(tx, promotion);
  // Every promotion proposed now rests on TEST figures (a first one on the candidate's own); one
  // filed before that rule, with none, is not approved on nothing.
  if (!snapshotId) {
    throw conflict(
      "This proposal carries no TEST-part evidence (it was filed before every promotion needed one): reject it; the proposer evaluates the model on a snapshot (compareModels) and proposes again",
    );
  }
  if (!isUuid(snapshotId)) return;
  const n = await relabelledTestCells(tx, snapshotId);
  if (n > 0) {
    throw conflict(
      // A first promotion (no champion replaced) rests on the candidate's own evaluation alone.
      promotion.replacesChampionId
        ? `${n} TEST cell${n === 1 ? "" : "s"} of the snapshot this proposal was compared on ${noLongerHeld(n)}: its figures score both models against labels since withdrawn. Reject it; the proposer takes a new snapshot, compares again and proposes`
        : `${n} TEST cell${n === 1 ? "" : "s"} of the snapshot this proposal was evaluated on ${noLongerHeld(n)}: its figures score the model against labels since withdrawn. Reject it; the proposer takes a new snapshot, evaluates the model on it again and proposes`,
      { relabelledTestCells: n, snapshotId },
    );
  }
}

/**
 * The champion's files must be there and be the registered ones before it serves: a rollback to
 * a version whose folder was cleaned up or rewritten would otherwise fail every new analysis.
 */
async function assertArtifactIntact(dataDir: string, version: ModelVersion): Promise<void> {
  const problem = await inspectModelDir(resolveModelDir(dataDir, version.artifactPath)).then(
    (info) => unregisteredChange(info, version),
    (err: unknown) => (err instanceof Error ? err.message : "its folder cannot be read"),
  );
  if (problem) {
    throw conflict(`${version.name} ${version.version} cannot serve: ${problem.replace(dataDir, "<data>")}. Restore its model folder, then decide again`);
  }
}
