// Direct-insert fixtures for the jobs/models/training tests: fast, and independent of the
// upload and review code paths (which have their own tests).
import { createHash, randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CaseStatus, ModelStatus, PrismaClient } from "@rcmnet/db";
import { signCaseForTest } from "@rcmnet/db/testing";
import { folderSha256 } from "../model/modelRuntime.ts";

let counter = 0;
const unique = () => `${process.pid}-${++counter}-${randomBytes(3).toString("hex")}`;

export async function insertModelVersion(
  prisma: PrismaClient,
  overrides: { status?: ModelStatus; labels?: string[]; name?: string; version?: string; evaluatedOn?: string; dataDir?: string; trainingRunId?: string } = {},
) {
  const id = unique();
  const labels = overrides.labels ?? ["car_t", "lymphocyte"];
  const weights = randomBytes(64);
  const artifactSha256 = createHash("sha256").update(weights).digest("hex");
  let folder: string | null = null;
  if (overrides.dataDir) {
    // The files an approval checks (inspectModelDir): a card declaring the weights' hash, and a
    // topology. Not a model that could predict; these tests never load one.
    const dir = join(overrides.dataDir, "models", "fixture", id);
    const card = JSON.stringify({ weightsSha256: artifactSha256, labels, inputSize: 32 });
    const topology = JSON.stringify({ format: "fixture" });
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "weights.bin"), weights);
    await writeFile(join(dir, "model-card.json"), card);
    await writeFile(join(dir, "topology.json"), topology);
    folder = folderSha256(card, topology);
  }
  return prisma.modelVersion.create({
    data: {
      name: overrides.name ?? "fixture-model",
      version: overrides.version ?? id,
      labels,
      inputSize: 32,
      normalization: {},
      architecture: { arch: "rcmnet" },
      // evaluatedOn: a test-set evaluation on that snapshot, as compareModels or a training run
      // records it: with its TEST cell count, which a proposal's minimum (RCMNET_MIN_TEST_CELLS) is checked on.
      metrics: overrides.evaluatedOn ? { evaluations: { [overrides.evaluatedOn]: { count: 20, accuracy: 0.9, macroF1: 0.9 } } } : {},
      artifactPath: `fixture/${id}`,
      artifactSha256,
      folderSha256: folder,
      trainingRunId: overrides.trainingRunId ?? null,
      status: overrides.status ?? "CANDIDATE",
    },
  });
}

export interface CellSpec {
  /** Review labels in order (the last is the human's final decision); none: never reviewed. */
  reviews?: string[];
  /** The crop's blob (one the store holds, for a test that reads crops); default: a fake hash. */
  cropSha256?: string;
}

/** A case with one FIELD slide and one cell per spec (crop blobs are fake hashes). */
export async function insertCaseWithCells(
  prisma: PrismaClient,
  options: { createdById: string; reviewerId: string; status: CaseStatus; cells: CellSpec[]; patientRef?: string | null },
) {
  // Made in review and moved to its status at the end, as the platform does: a signed case takes
  // no new cells or decisions (database triggers).
  const kase = await prisma.case.create({
    // A patient of its own unless told (null: none, which snapshots keep out of VAL and TEST).
    data: { accession: `T-${unique()}`, status: "IN_REVIEW", createdById: options.createdById, patientRef: options.patientRef === undefined ? `P-${unique()}` : options.patientRef },
  });
  const slide = await prisma.slide.create({
    data: {
      caseId: kase.id,
      imageSha256: randomBytes(32).toString("hex"),
      mimeType: "image/png",
      byteSize: 1,
      width: 640,
      height: 480,
      analysisStatus: "DONE",
      uploadedById: options.createdById,
    },
  });
  const cells = [];
  for (const [i, spec] of options.cells.entries()) {
    const reviews = spec.reviews ?? [];
    const cell = await prisma.cell.create({
      data: {
        slideId: slide.id,
        x: i * 10,
        y: 0,
        width: 10,
        height: 10,
        cropSha256: spec.cropSha256 ?? randomBytes(32).toString("hex"),
        currentLabel: reviews.at(-1) ?? null,
        reviewCount: reviews.length,
      },
    });
    for (const [seq, label] of reviews.entries()) {
      await prisma.review.create({
        data: {
          cellId: cell.id,
          seq: seq + 1,
          reviewerId: options.reviewerId,
          action: seq === 0 ? "CONFIRM" : "RECLASSIFY",
          label,
          previousLabel: seq === 0 ? null : reviews[seq - 1]!,
          reason: seq === 0 ? null : "fixture",
        },
      });
    }
    cells.push(cell);
  }
  const placed = options.status === "IN_REVIEW" ? kase : await placeCase(prisma, kase.id, options.status, options.reviewerId);
  return { case: placed, slide, cells };
}

/**
 * Moves a case in review to another status. A signed one is signed as the database requires (migration
 * signature_integrity): SIGNED_OUT with a version 1 signature, AMENDED signed, amended and signed
 * again (version 2), each with its sign_off (signCaseForTest: a stub content, no report).
 */
async function placeCase(prisma: PrismaClient, caseId: string, status: CaseStatus, signerId: string) {
  if (status === "SIGNED_OUT" || status === "AMENDED") {
    const first = await signCaseForTest(prisma, caseId, { signerId });
    if (status === "SIGNED_OUT") return first.case;
    await prisma.case.update({ where: { id: caseId }, data: { status: "IN_REVIEW" } });
    return (await signCaseForTest(prisma, caseId, { signerId })).case;
  }
  return prisma.case.update({ where: { id: caseId }, data: { status } });
}
