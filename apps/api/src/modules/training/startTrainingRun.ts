// Queues a training run: transfer learning from a base model (the champion unless another
// version is named) on a dataset snapshot's TRAIN/VAL parts, evaluated on its locked TEST part.
import type { Prisma, PrismaClient, TrainingRun } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { badInput, conflict, notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { enqueueTraining } from "../../jobs/analysisJobs.ts";
import { parseRecipe, recipeForRun } from "./trainingConfig.ts";
import { snapshotCellsNoLongerHeld } from "./noLongerHeld.ts";
import { staleItemCount } from "./staleItems.ts";
import { splitSummaryOf } from "./listDatasetSnapshots.ts";
import { defaultLimits, type Limits } from "../../env.ts";

export interface StartTrainingRunInput {
  snapshotId: string;
  config?: unknown;
  /** Default: the current champion; none at all: train from scratch. */
  baseModelVersionId?: string | null;
}

/** The input size a run trains at when neither its base model nor its recipe names one (train.ts). */
const DEFAULT_INPUT_SIZE = 64;

export async function startTrainingRun(
  prisma: PrismaClient,
  actor: AuthUser,
  input: StartTrainingRunInput,
  limits: Pick<Limits, "maxTrainingImageBytes"> = defaultLimits,
): Promise<TrainingRun> {
  const given = parseRecipe(input.config);
  if (!isUuid(input.snapshotId)) throw notFound("Dataset snapshot");
  if (input.baseModelVersionId != null && !isUuid(input.baseModelVersionId))
    throw notFound("Base model version");

  const snapshot = await prisma.datasetSnapshot.findUnique({ where: { id: input.snapshotId } });
  if (!snapshot) throw notFound("Dataset snapshot");
  const base = input.baseModelVersionId
    ? await prisma.modelVersion.findUnique({ where: { id: input.baseModelVersionId } })
    : await prisma.modelVersion.findFirst({ where: { status: "CHAMPION" } });
  if (input.baseModelVersionId && !base) throw notFound("Base model version");
  const config = recipeForRun(given, base);
  const parts = await prisma.datasetItem.groupBy({
    by: ["split"],
    where: { snapshotId: snapshot.id },
    _count: true,
  });
  const count = (split: string) => parts.find((p) => p.split === split)?._count ?? 0;
  if (snapshot.labels.length < 2) throw badInput("The snapshot needs cells of at least two classes to train");
  if (count("TRAIN") === 0) throw badInput("The snapshot has no TRAIN cells");
  if (count("TEST") === 0) {
    // Since 2026-11-27 a case without a patient study id is learned from only (datasetSplit.ts).
    throw badInput(
      "The snapshot has no TEST cells to evaluate on: TEST holds whole patients, and cases without a patient study id go to TRAIN only (they may be any patient's). Record the patient study id on signed cases (case details), then take a new snapshot",
    );
  }
  // Snapshots taken before 2026-11-28 put cases without a patient study id in TRAIN. Such a case
  // may be a TEST patient's earlier smear: learned, then scored on, and the leakage check, which
  // compares patients, cannot see it (docs/decisions.md D5). A new snapshot leaves them out.
  const patientless = splitSummaryOf(snapshot)?.casesWithoutPatient ?? 0;
  if (patientless > 0) {
    const cases = patientless === 1 ? "1 case" : `${patientless} cases`;
    throw badInput(
      `Snapshot ${snapshot.name} puts ${cases} without a patient study id in TRAIN (the rule for snapshots taken before 2026-11-28): such a case may be the same patient as a TEST case, which the model would learn and then be scored on, unseen by the leakage check. Take a new snapshot: it leaves such cases out until their study ids are entered`,
      { casesWithoutPatient: patientless },
    );
  }
  const size = base?.inputSize ?? config.inputSize ?? DEFAULT_INPUT_SIZE;
  const imageBytes = (count("TRAIN") + count("VAL")) * size * size * 3;
  if (imageBytes > limits.maxTrainingImageBytes) {
    const gib = (b: number) => (b / 1024 ** 3).toFixed(1);
    throw badInput(
      `Training decodes its ${count("TRAIN") + count("VAL")} TRAIN and VAL cells at ${size} px up front: ${gib(imageBytes)} GiB, over the worker's limit of ${gib(limits.maxTrainingImageBytes)} GiB. Train at a smaller size, or raise RCMNET_MAX_TRAINING_IMAGE_GIB where the worker has the memory`,
      { imageBytes, limit: limits.maxTrainingImageBytes },
    );
  }
  // First, before the other refusals: a stale snapshot is answered by a new one, which may not
  // share their problems.
  await assertLabelsStillHeld(prisma, snapshot);
  // A class whose patients all fell in TEST (or VAL) gives the model nothing to learn it from:
  // the worker would fail on it only after copying the crops, three times over.
  const trained = await prisma.datasetItem.groupBy({ by: ["label"], where: { snapshotId: snapshot.id, split: "TRAIN" } });
  const untrained = snapshot.labels.filter((l) => !trained.some((t) => t.label === l));
  if (untrained.length > 0) {
    throw badInput(
      `${untrained.join(", ")} ${untrained.length === 1 ? "has" : "have"} no TRAIN cells in this snapshot (all of ${untrained.length === 1 ? "its" : "their"} patients are in VAL or TEST): sign out more cases with ${untrained.length === 1 ? "this class" : "these classes"} and take a new snapshot`,
      { untrainedLabels: untrained },
    );
  }
  // A model that cannot suggest a class the champion can is never promoted (keepsClasses.ts):
  // say so before the run, not after it.
  const champion = await prisma.modelVersion.findFirst({ where: { status: "CHAMPION" }, select: { name: true, version: true, labels: true } });
  const missing = (champion?.labels ?? []).filter((l) => !trained.some((t) => t.label === l));
  if (champion && missing.length > 0) {
    throw badInput(
      `The champion ${champion.name} ${champion.version} suggests ${missing.join(", ")}, which this snapshot has no TRAIN cells of: a model trained on it could not, and could not be promoted. Sign out cases with ${missing.length === 1 ? "this class" : "these classes"} and take a new snapshot`,
      { missingLabels: missing },
    );
  }

  return prisma.$transaction(async (tx) => {
    await assertNoActiveRun(tx);
    // Read again in the transaction that queues the run, as late as it can be. It does not close the
    // race with an amendment (which takes no lock a start could wait on): the worker reads the
    // same rule again when it starts and before it registers the model (trainModel.ts).
    await assertLabelsStillHeld(tx, snapshot);
    const run = await tx.trainingRun.create({
      data: {
        snapshotId: snapshot.id,
        baseModelVersionId: base?.id ?? null,
        config,
        startedById: actor.id,
      },
    });
    await enqueueTraining(tx, run.id);
    await recordAudit(tx, actor, {
      action: "training.start",
      entityType: "TrainingRun",
      entityId: run.id,
      after: { snapshotId: snapshot.id, baseModelVersionId: base?.id ?? null, config },
    });
    return run;
  });
}

/**
 * One run queued or running at a time: a second would train beside it on the same worker's memory
 * and time, and a double click or a second tab would queue the same training twice. Serialised by
 * a lock held to commit, so two starts at once cannot both see none.
 */
async function assertNoActiveRun(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(72430032)`;
  const active = await tx.trainingRun.findFirst({
    where: { status: { in: ["QUEUED", "RUNNING"] } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { id: true, status: true, cancelRequested: true, createdAt: true, snapshot: { select: { name: true } } },
  });
  if (!active) return;
  const state = `${active.status === "QUEUED" ? "queued" : "running"}${active.cancelRequested ? ", cancellation requested" : ""}`;
  throw conflict(
    `Training run ${active.id} (snapshot "${active.snapshot.name}", queued ${active.createdAt.toISOString()}) is still ${state}: wait for it to finish, or cancel it, before starting another`,
    { activeRunId: active.id, activeRunStatus: active.status },
  );
}

/** Refuses a snapshot with a cell whose label the platform no longer holds (staleItems.ts). */
async function assertLabelsStillHeld(db: Pick<PrismaClient, "$queryRaw">, snapshot: { id: string; name: string }): Promise<void> {
  const relabelled = await relabelledSince(db, snapshot.id);
  if (relabelled > 0) {
    throw conflict(
      `${snapshotCellsNoLongerHeld(relabelled, snapshot.name)}: take a new snapshot, so the model learns and is tested on the current labels`,
      { relabelledSince: relabelled },
    );
  }
}

/** Cells of a snapshot that no longer hold the label they were frozen with (staleItems.ts). */
export function relabelledSince(prisma: Pick<PrismaClient, "$queryRaw">, snapshotId: string): Promise<number> {
  return staleItemCount(prisma, snapshotId);
}
