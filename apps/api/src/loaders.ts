// Per-request DataLoaders: each batches the lookups of one GraphQL execution into one query, so
// a case page with 500 cells costs a bounded number of queries (src/n-plus-one.int.test.ts).
// Created per request, so nothing is cached across users or across writes.
import DataLoader from "dataloader";
import type { Case, ModelStatus, Prediction, PrismaClient, Review, Slide, User } from "@rcmnet/db";
import { modelLabelSetsByCase } from "./modules/cases/differential.ts";
import { latestAmendEvents, type AmendEvent } from "./modules/signoff/amendCase.ts";
import { withdrawnSql } from "./modules/models/withdrawn.ts";
import { withdrawingRetractions, type WithdrawingRetraction } from "./modules/signoff/withdrawnCells.ts";

function byKey<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): (V | null)[] {
  const map = new Map<K, V>();
  for (const row of rows) map.set(keyOf(row), row);
  return keys.map((k) => map.get(k) ?? null);
}

function groupBy<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): V[][] {
  const map = new Map<K, V[]>();
  for (const row of rows) {
    const k = keyOf(row);
    const list = map.get(k);
    if (list) list.push(row);
    else map.set(k, [row]);
  }
  return keys.map((k) => map.get(k) ?? []);
}

export interface LabelCount {
  label: string | null;
  count: number;
  reviewed: number;
}

export function createLoaders(prisma: PrismaClient) {
  return {
    userById: new DataLoader<string, User | null>(async (ids) =>
      byKey(ids, await prisma.user.findMany({ where: { id: { in: [...ids] } } }), (u) => u.id),
    ),
    caseById: new DataLoader<string, Case | null>(async (ids) =>
      byKey(ids, await prisma.case.findMany({ where: { id: { in: [...ids] } } }), (c) => c.id),
    ),
    slideById: new DataLoader<string, Slide | null>(async (ids) =>
      byKey(ids, await prisma.slide.findMany({ where: { id: { in: [...ids] } } }), (s) => s.id),
    ),
    slidesByCaseId: new DataLoader<string, Slide[]>(async (ids) =>
      groupBy(
        ids,
        await prisma.slide.findMany({ where: { caseId: { in: [...ids] } }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
        (s) => s.caseId,
      ),
    ),
    /**
     * Images of each case whose analysis failed (the worklist's count: no slide rows loaded). A
     * voided one is not: it needs no new upload, it is out of the case.
     */
    failedSlideCountByCaseId: new DataLoader<string, number>(async (ids) => {
      const rows = await prisma.slide.groupBy({
        by: ["caseId"],
        where: { caseId: { in: [...ids] }, analysisStatus: "FAILED", voidedAt: null },
        _count: { _all: true },
      });
      const counts = new Map(rows.map((r) => [r.caseId, r._count._all]));
      return ids.map((id) => counts.get(id) ?? 0);
    }),
    /** All predictions of each cell, newest first (one per model version). */
    predictionsByCellId: new DataLoader<string, Prediction[]>(async (ids) =>
      groupBy(
        ids,
        await prisma.prediction.findMany({ where: { cellId: { in: [...ids] } }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
        (p) => p.cellId,
      ),
    ),
    /**
     * Model versions by id, identity fields and status only, and whether an approved rollback
     * withdrew each (Prediction.modelVersion, ModelVersionRef.isChampion / withdrawn).
     */
    modelVersionRefById: new DataLoader<string, { id: string; name: string; version: string; status: ModelStatus; withdrawn: boolean } | null>(async (ids) =>
      byKey(
        ids,
        await prisma.$queryRaw<{ id: string; name: string; version: string; status: ModelStatus; withdrawn: boolean }[]>`
          SELECT mv.id, mv.name, mv.version, mv.status::text AS status, ${withdrawnSql("mv")} AS withdrawn
          FROM model_version mv WHERE mv.id = ANY(${[...ids]}::uuid[])`,
        (m) => m.id,
      ),
    ),
    /** Human decisions of each cell in order (seq 1, 2, ...). */
    reviewsByCellId: new DataLoader<string, Review[]>(async (ids) =>
      groupBy(
        ids,
        await prisma.review.findMany({ where: { cellId: { in: [...ids] } }, orderBy: { seq: "asc" } }),
        (r) => r.cellId,
      ),
    ),
    /** Whether the cells of each case were screened for CAR-T (every model that called them has the class). */
    /** The label sets of the models whose calls are the case's AI calls (the differential's screened classes). */
    modelLabelSetsByCaseId: new DataLoader<string, string[][]>(async (ids) => {
      const sets = await modelLabelSetsByCase(prisma, ids);
      return ids.map((id) => sets.get(id) ?? []);
    }),
    /**
     * The latest case.amend event of each case (null: never amended): when, by whom and why the
     * open amendment was started, read once however many of those Case fields a query asks for.
     */
    amendEventByCaseId: new DataLoader<string, AmendEvent | null>(async (ids) => {
      const events = await latestAmendEvents(prisma, ids);
      return ids.map((id) => events.get(id) ?? null);
    }),
    /**
     * The retraction each case is being amended after, null for none (Cell.withdrawnInVersion):
     * one query per page of cells, however many cells ask.
     */
    withdrawingRetractionByCaseId: new DataLoader<string, WithdrawingRetraction | null>(async (ids) => {
      const found = await withdrawingRetractions(prisma, ids);
      return ids.map((id) => found.get(id) ?? null);
    }),
    /**
     * Cell counts per current label (and how many were reviewed) for each case: one query serves
     * the worklist's cellCount/reviewedCount and the case page's differential.
     */
    labelCountsByCaseId: new DataLoader<string, LabelCount[]>(async (ids) => {
      const rows = await prisma.$queryRaw<{ caseId: string; label: string | null; count: bigint; reviewed: bigint }[]>`
        SELECT s."caseId", c."currentLabel" AS label, count(*) AS count, count(*) FILTER (WHERE c."reviewCount" > 0) AS reviewed
        FROM slide s JOIN cell c ON c."slideId" = s.id
        WHERE s."caseId" = ANY(${[...ids]}::uuid[]) AND s."analysisStatus" <> 'FAILED' AND s."voidedAt" IS NULL
        GROUP BY s."caseId", c."currentLabel"`;
      return groupBy(ids, rows, (r) => r.caseId).map((list) =>
        list.map((r) => ({ label: r.label, count: Number(r.count), reviewed: Number(r.reviewed) })),
      );
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
