// Direct-to-database fixtures (fast: multi-row inserts), for tests that exercise review,
// sign-off and reads without running the analysis pipeline.
import { randomBytes, randomUUID } from "node:crypto";
import type { Case, ModelVersion, PrismaClient } from "@rcmnet/db";

export const FIXTURE_LABELS = ["car_t", "lymphocyte", "neutrophil", "monocyte", "eosinophil"];

export async function ensureModelVersion(prisma: PrismaClient): Promise<ModelVersion> {
  const existing = await prisma.modelVersion.findFirst({ where: { name: "fixture" } });
  if (existing) return existing;
  return prisma.modelVersion.create({
    data: {
      name: "fixture",
      version: "1",
      labels: FIXTURE_LABELS,
      inputSize: 64,
      normalization: {},
      architecture: {},
      metrics: {},
      artifactPath: "/nonexistent",
      artifactSha256: "0".repeat(64),
      status: "CHAMPION",
    },
  });
}

export interface ReviewableCase {
  kase: Case;
  slideId: string;
  cellIds: string[];
  model: ModelVersion;
}

/**
 * A case IN_REVIEW with one analysed slide and `cells` cells, each with an AI prediction
 * (labels cycle through FIXTURE_LABELS; every 10th abstains).
 */
export async function seedReviewableCase(
  prisma: PrismaClient,
  opts: { createdById: string; cells: number; accession?: string; status?: Case["status"]; slideKind?: "FIELD" | "CROP"; model?: ModelVersion },
): Promise<ReviewableCase> {
  const model = opts.model ?? (await ensureModelVersion(prisma));
  const labels = model.labels;
  const kase = await prisma.case.create({
    data: {
      accession: opts.accession ?? `FX-${randomBytes(4).toString("hex")}`,
      patientRef: "MRN-0001",
      status: opts.status ?? "IN_REVIEW",
      createdById: opts.createdById,
    },
  });
  const slide = await prisma.slide.create({
    data: {
      caseId: kase.id,
      imageSha256: randomBytes(32).toString("hex"),
      mimeType: "image/png",
      byteSize: 1000,
      width: 1000,
      height: 1000,
      analysisStatus: "DONE",
      kind: opts.slideKind ?? "FIELD",
      uploadedById: opts.createdById,
    },
  });
  const cellIds = Array.from({ length: opts.cells }, () => randomUUID());
  const labelOf = (i: number) => labels[i % labels.length]!;
  const abstains = (i: number) => i % 10 === 9;
  await prisma.cell.createMany({
    data: cellIds.map((id, i) => ({
      id,
      slideId: slide.id,
      x: (i % 40) * 25,
      y: Math.floor(i / 40) * 25,
      width: 24,
      height: 24,
      detectionScore: 0.9,
      cropSha256: randomBytes(32).toString("hex"),
      currentLabel: abstains(i) ? "unidentified" : labelOf(i),
    })),
  });
  await prisma.prediction.createMany({
    data: cellIds.map((cellId, i) => ({
      cellId,
      modelVersionId: model.id,
      label: labelOf(i),
      probabilities: Object.fromEntries(labels.map((l) => [l, l === labelOf(i) ? 0.8 : 0.05])),
      confidence: abstains(i) ? 0.3 : 0.8,
      abstained: abstains(i),
    })),
  });
  return { kase, slideId: slide.id, cellIds, model };
}

/**
 * confirmCells inputs as a review page that has just loaded these cells sends them: each cell's
 * label and review count as they stand now (what the reviewer saw and confirms).
 */
export async function confirmAsSeen(prisma: PrismaClient, cellIds: string[], extra: { reason?: string } = {}) {
  const cells = new Map((await prisma.cell.findMany({ where: { id: { in: cellIds } } })).map((c) => [c.id, c]));
  return cellIds.map((cellId) => {
    const cell = cells.get(cellId);
    if (!cell?.currentLabel) throw new Error(`confirmAsSeen: cell ${cellId} has no label to confirm`);
    return { cellId, expectedReviewCount: cell.reviewCount, expectedLabel: cell.currentLabel, ...extra };
  });
}

/**
 * A fingerprint of every table: row count and an md5 over all rows. Equal before/after = unchanged.
 * api_session without lastSeenAt: any request with a valid token may move it (once a minute), even
 * one that is then refused; a session opened or ended still shows.
 */
export async function databaseFingerprint(prisma: PrismaClient): Promise<Record<string, string>> {
  const tables = await prisma.$queryRaw<{ t: string }[]>`
    SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1`;
  const out: Record<string, string> = {};
  for (const { t } of tables) {
    const rows = t === "api_session"
      ? await prisma.$queryRaw<{ n: bigint; h: string | null }[]>`
          SELECT count(*) AS n, md5(string_agg(concat_ws(',', "tokenSha256", "endedAt", "endReason"), '|' ORDER BY "tokenSha256")) AS h FROM api_session`
      : await prisma.$queryRawUnsafe<{ n: bigint; h: string | null }[]>(
          `SELECT count(*) AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM "${t.replace(/"/g, "")}" x`,
        );
    out[t] = `${rows[0]!.n}:${rows[0]!.h ?? ""}`;
  }
  return out;
}
