// The cells a retraction withdrew that would be reported again by the next result (docs/decisions.md
// D10): one rule for signOffCase, which refuses a result while any is left, and for
// Cell.withdrawnInVersion, which tells the review page which cells those are before it signs.
import type { PrismaClient } from "@rcmnet/db";
import { isAmendmentOpenStatus } from "../cases/caseStatus.ts";
import { RETRACTION_MEANING } from "./meanings.ts";

/** A retraction as the next result is held to it: its version, and the decisions it signed per cell id. */
export interface WithdrawingRetraction {
  version: number;
  decisions: ReadonlyMap<string, number>;
}

/** The decisions a signed content records for each of its cells (content.cells[].decisions), by cell id. */
export function signedDecisions(content: unknown): Map<string, number> {
  const cells = (content as { cells?: { id: string; decisions: number }[] } | null)?.cells ?? [];
  return new Map(cells.map((c) => [c.id, c.decisions]));
}

/**
 * Whether a counted cell is still withdrawn by the retraction: it is one of the retraction's cells
 * and no decision was recorded on it since. Decisions only grow, so a review count at or below the
 * one signed is a decision the retraction already withdrew.
 */
export function stillWithdrawn(retraction: Pick<WithdrawingRetraction, "decisions">, cell: { id: string; reviewCount: number }): boolean {
  const signed = retraction.decisions.get(cell.id);
  return signed !== undefined && cell.reviewCount <= signed;
}

/**
 * For each case being amended after a retraction (its latest signed version is one, and an
 * amendment is open), that retraction; cases without one are absent. One query for any number of
 * cases; only each cell's id and decisions are read out of the signed content.
 */
export async function withdrawingRetractions(prisma: Pick<PrismaClient, "$queryRaw">, caseIds: readonly string[]): Promise<Map<string, WithdrawingRetraction>> {
  const rows = await prisma.$queryRaw<{ caseId: string; status: string; reportVersion: number; version: number; decisions: Record<string, number> }[]>`
    SELECT k.id AS "caseId", k.status::text AS status, k."reportVersion", so.version,
           (SELECT coalesce(jsonb_object_agg(e->>'id', (e->>'decisions')::int), '{}'::jsonb)
            FROM jsonb_array_elements(coalesce(so.content->'cells', '[]'::jsonb)) e) AS decisions
    FROM "case" k
    JOIN sign_off so ON so."caseId" = k.id AND so.version = k."reportVersion"
    WHERE k.id = ANY(${[...caseIds]}::uuid[]) AND so.meaning = ${RETRACTION_MEANING}`;
  const out = new Map<string, WithdrawingRetraction>();
  for (const r of rows) {
    if (isAmendmentOpenStatus(r.status, r.reportVersion)) out.set(r.caseId, { version: r.version, decisions: new Map(Object.entries(r.decisions)) });
  }
  return out;
}
