import type { AnalysisStatus, Case, Prisma, Prediction } from "@rcmnet/db";
import { conflict, notFound, badInput } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { ARTIFACT, UNIDENTIFIED, assertNotSigned } from "../cases/caseRules.ts";
import { BLAST, isUnidentified } from "../cases/whiteCellDifferential.ts";

/**
 * Labels a human may always choose, whatever the models' classes: no cell, no class, and a blast
 * or other abnormal cell (no model knows it, and a post-CAR-T relapse must be recordable).
 */
export const ALWAYS_ALLOWED_LABELS = [UNIDENTIFIED, ARTIFACT, BLAST] as const;

/** Model label sets (all registered versions) plus the labels a human may always choose. */
export async function allowedLabels(db: Prisma.TransactionClient): Promise<string[]> {
  const rows = await db.$queryRaw<{ label: string }[]>`SELECT DISTINCT unnest(labels) AS label FROM model_version`;
  return [...new Set([...rows.map((r) => r.label), ...ALWAYS_ALLOWED_LABELS])].sort();
}

/**
 * Leaving a cell unidentified takes it out of the white-cell count (and so moves every share,
 * CAR-T included): like an override, it is a judgement others must be able to follow, so each
 * decision that leaves a cell unidentified, a confirmed AI abstention included, carries a reason.
 */
export function assertReasonToLeaveUnidentified(label: string | null, reason: string | null | undefined): void {
  if (isUnidentified(label) && !reason) {
    throw badInput("A reason is required to leave a cell unidentified: it is then out of the white-cell count");
  }
}

/** What the AI said about a cell: an abstained prediction counts as "unidentified". */
export function aiLabel(prediction: Pick<Prediction, "label" | "abstained"> | null | undefined): string | null {
  if (!prediction) return null;
  return prediction.abstained ? UNIDENTIFIED : prediction.label;
}

/**
 * Locks the case FOR SHARE: reviews of different cells proceed together, while a sign-off or
 * amendment (FOR UPDATE) waits for them and they wait for it. Same-cell races are settled by
 * the conditional update on reviewCount.
 */
export async function lockCaseForReview(tx: Prisma.TransactionClient, caseId: string): Promise<Case> {
  await tx.$executeRaw`SELECT 1 FROM "case" WHERE id = ${caseId}::uuid FOR SHARE`;
  const c = await tx.case.findUnique({ where: { id: caseId } });
  if (!c) throw notFound("Case");
  assertNotSigned(c);
  if (c.status === "RECEIVED") throw conflict(`Case ${c.accession} has no analysed cells yet`);
  return c;
}

/**
 * Locks the case of the cells for a review decision, then the cells themselves. The cells are read
 * twice: once to find their case, and again under the lock, because a slide may fail or be voided
 * in between (failSlide and voidSlide hold the case FOR UPDATE) and its cells are then out of the
 * case. The cells are locked in id order, the order the re-prediction of open cases locks them in
 * under the same case lock (repredictOpenCases): two writers taking overlapping cells in
 * different orders would deadlock. Held to the commit, so what the caller reads of them next
 * (label, review count) is what it writes over.
 */
export async function lockCaseOfCells(tx: Prisma.TransactionClient, cellIds: string[]): Promise<Case> {
  const kase = await lockCaseForReview(tx, await caseOfCells(tx, cellIds));
  await caseOfCells(tx, cellIds);
  await tx.$executeRaw`SELECT 1 FROM cell WHERE id = ANY(${cellIds}::uuid[]) ORDER BY id FOR UPDATE`;
  return kase;
}

/** The case id of each cell; refuses unknown ids and cells of several cases. */
export async function caseOfCells(tx: Prisma.TransactionClient, cellIds: string[]): Promise<string> {
  if (cellIds.some((id) => !isUuid(id))) throw notFound("Cell");
  const rows = await tx.$queryRaw<{ id: string; caseId: string; status: AnalysisStatus; voidReason: string | null }[]>`
    SELECT c.id, s."caseId", s."analysisStatus" AS status, s."voidReason" FROM cell c JOIN slide s ON s.id = c."slideId" WHERE c.id = ANY(${cellIds}::uuid[])`;
  if (rows.length !== cellIds.length) throw notFound("Cell");
  // A voided image's cells stay on record but are out of the case: nothing to decide on them.
  const voided = rows.find((r) => r.voidReason !== null);
  if (voided) {
    throw conflict(`This cell's image was voided (${voided.voidReason}): its cells are out of the case and are not reviewed; reload the case`, {
      cellId: voided.id,
      slideVoided: true,
    });
  }
  // Cells a failed analysis left behind are not part of the case (listCells): not decided either.
  if (rows.some((r) => r.status === "FAILED")) throw conflict("This cell's image could not be analysed: upload the image again");
  // Cells are stored before their predictions: a decision now would meet no AI call (and so
  // need no reason to override it), while the worker goes on to write one.
  if (rows.some((r) => r.status !== "DONE")) throw conflict("This cell's image is still being analysed: decide once its analysis is done");
  const cases = new Set(rows.map((r) => r.caseId));
  if (cases.size !== 1) throw badInput("All cells must belong to one case");
  return rows[0]!.caseId;
}
