// A model version entering the registry, and its model.register event, in the caller's
// transaction: one commits with the other. One place for every way a model comes in: registered
// from a folder (registerModel), installed at start (RCMNET_MODEL_DIR and the demo's,
// seed/modelDirChampion.ts), or produced by a training run (the worker's trainModel).
import type { ModelVersion, Prisma } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import type { ModelDirInfo } from "../../jobs/model/runtime.ts";

export interface NewModelVersion {
  /** The folder's card, as inspectModelDir read it. */
  info: ModelDirInfo;
  /** Relative to the data directory's models folder. */
  artifactPath: string;
  /** The card's version unless given (a training run's model is named after its run). */
  version?: string;
  /** The card's metrics unless given (a training run adds its TEST evaluation). */
  metrics?: Prisma.InputJsonObject;
  parentId?: string | null;
  trainingRunId?: string;
}

/**
 * Creates the version (a CANDIDATE) and its model.register event: the name, version and both
 * hashes, and `auditAfter` (where it came from). `actor` null: the system (worker, start-up).
 */
export async function createModelVersion(
  tx: Prisma.TransactionClient,
  actor: Pick<AuthUser, "id" | "login"> | null,
  model: NewModelVersion,
  auditAfter: Record<string, unknown>,
): Promise<ModelVersion> {
  const { info } = model;
  const created = await tx.modelVersion.create({
    data: {
      name: info.name,
      version: model.version ?? info.version,
      labels: info.labels,
      inputSize: info.inputSize,
      normalization: info.normalization as Prisma.InputJsonObject,
      architecture: info.architecture as Prisma.InputJsonObject,
      metrics: model.metrics ?? (info.metrics as Prisma.InputJsonObject),
      artifactPath: model.artifactPath,
      artifactSha256: info.weightsSha256,
      folderSha256: info.folderSha256,
      parentId: model.parentId ?? null,
      trainingRunId: model.trainingRunId ?? null,
      status: "CANDIDATE",
    },
  });
  await recordAudit(tx, actor, {
    action: "model.register",
    entityType: "ModelVersion",
    entityId: created.id,
    after: {
      name: created.name,
      version: created.version,
      artifactSha256: created.artifactSha256,
      folderSha256: created.folderSha256,
      ...auditAfter,
    } as Prisma.InputJsonObject,
  });
  return created;
}
