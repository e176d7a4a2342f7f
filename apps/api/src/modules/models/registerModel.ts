// Registers a model directory produced by @rcmnet/model (`rcmnet train` or a training run) as a
// CANDIDATE. The weights are hashed and must match what model-card.json declares, so a
// half-copied or edited directory is refused. Only directories under `<dataDir>/models` are
// accepted: the API never reads arbitrary server paths on a user's say-so.
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { ModelVersion, Prisma } from "@rcmnet/db";
import type { AuthUser, Context } from "../../context.ts";
import { badInput, conflict, isUniqueViolation } from "../../errors.ts";
import { CROP_CONTEXT } from "@rcmnet/model/framing";
import { runStateText } from "@rcmnet/model/runState";
import { inspectModelDir } from "../../jobs/model/modelRuntime.ts";
import type { ModelDirInfo } from "../../jobs/model/runtime.ts";
import { createModelVersion } from "./createModelVersion.ts";

const MAX_PATH = 500;
/** Any number no other advisory lock in the system uses. */
const MODEL_REGISTRATION_LOCK = 72430022;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/;

export async function registerModel(
  ctx: Pick<Context, "prisma" | "env">,
  actor: AuthUser,
  path: string,
): Promise<ModelVersion> {
  const modelsDir = join(ctx.env.dataDir, "models");
  const dir = await resolveInside(modelsDir, path);
  let info: ModelDirInfo;
  try {
    info = await inspectModelDir(dir);
  } catch (err) {
    throw badInput(
      `Not a valid model directory: ${err instanceof Error ? err.message.replace(modelsDir, "<models>") : "unreadable"}`,
    );
  }
  assertRegistrable(info);
  const root = await realpath(modelsDir);
  const artifactPath = relative(root, dir);
  try {
    return await ctx.prisma.$transaction(async (tx) => {
      await refuseRegistered(tx, info, [artifactPath, join(modelsDir, artifactPath), join(root, artifactPath)]);
      return createModelVersion(tx, actor, { info, artifactPath }, { artifactPath, cropContext: info.cropContext });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`${info.name} ${info.version} is already registered`);
    throw err;
  }
}

/**
 * What a model directory's card must satisfy before the model enters the registry, however it
 * comes: registered here, or named by RCMNET_MODEL_DIR at start (seed/modelDirChampion.ts).
 * Throws BAD_USER_INPUT.
 */
export function assertRegistrable(info: ModelDirInfo): void {
  // A model saved at the end of an epoch mid-run (or by a cancelled run) is uncalibrated and
  // mid-schedule: its validation figures and probabilities are not a finished model's.
  if (info.run && !info.run.finished) {
    throw badInput(
      `This model is from an unfinished training run (saved at ${runStateText(info.run)}): register the model of a run that finished`,
    );
  }
  // The worker crops every cell at CROP_CONTEXT: a model trained on another framing would see
  // cells unlike its training data. Unknown framing (null: datasets of pre-cropped cells such as
  // PBC) is accepted and recorded; the promotion review decides.
  if (info.cropContext !== null && Math.abs(info.cropContext - CROP_CONTEXT) > 1e-6) {
    throw badInput(
      `This model was trained on crops framed at ${info.cropContext}x the cell box; the platform frames cells at ${CROP_CONTEXT}x, so its predictions here would be on crops unlike its training data`,
    );
  }
  // A label becomes a decision button, a row of the signed differential and a field of the
  // training manifest (CSV): plain names only, each once.
  const badLabel = info.labels.find((l) => !LABEL.test(l));
  if (badLabel !== undefined) {
    throw badInput(`The model's label ${JSON.stringify(badLabel.slice(0, 80))} is not a plain class name (letters, digits, _ . + -, at most 64)`);
  }
  if (new Set(info.labels).size !== info.labels.length) throw badInput("The model lists a label twice");
}

/**
 * Refuses a model already in the registry: the same weights, the same name and version, or the
 * same folder (`spellings`: the path as stored, relative or absolute). A folder registered twice
 * was overwritten after its first registration: the first version's record would describe files
 * that are gone, and the check before loading would fail it. No unique index on the path (older
 * rows may spell it either way): serialised by a lock held to commit instead, so two
 * registrations of one folder at once cannot both find none.
 */
export async function refuseRegistered(tx: Prisma.TransactionClient, info: ModelDirInfo, spellings: string[]): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${MODEL_REGISTRATION_LOCK}::bigint)`;
  const same = await tx.modelVersion.findFirst({
    where: { OR: [{ artifactSha256: info.weightsSha256 }, { name: info.name, version: info.version }] },
  });
  if (same) throw conflict(`Already registered as ${same.name} ${same.version}`, { modelVersionId: same.id });
  const sameFolder = await tx.modelVersion.findFirst({
    where: { artifactPath: { in: [...new Set(spellings)] } },
    orderBy: { createdAt: "asc" },
  });
  if (sameFolder) {
    throw conflict(
      `${sameFolder.name} ${sameFolder.version} was registered from this folder with other weights (the folder was overwritten since): a registered model's folder is never reused. Put the new model in a folder of its own and register that`,
      { modelVersionId: sameFolder.id },
    );
  }
}

/** The real directory of `path` (relative to modelsDir, or absolute), which must lie inside modelsDir. */
async function resolveInside(modelsDir: string, path: string): Promise<string> {
  const trimmed = path.trim();
  if (!trimmed || trimmed.length > MAX_PATH)
    throw badInput(`path must have 1 to ${MAX_PATH} characters`, { field: "path" });
  // One answer for a path outside the models directory and for one that does not exist, and the
  // file system is asked nothing about a path that is not lexically inside: otherwise the
  // messages would tell a caller which files exist anywhere on the server.
  const notHere = () => badInput("No model directory at that path under the server's models directory", { field: "path" });
  let root: string;
  try {
    root = await realpath(modelsDir);
  } catch {
    throw notHere();
  }
  const asked = isAbsolute(trimmed) ? resolve(trimmed) : resolve(modelsDir, trimmed);
  const inside = (base: string) => asked === base || asked.startsWith(base + sep);
  if (!inside(resolve(modelsDir)) && !inside(root)) throw notHere();
  let dir: string;
  try {
    // Symlinks resolved before the containment check: a link cannot lead outside.
    dir = await realpath(asked);
  } catch {
    throw notHere();
  }
  if (dir !== root && !dir.startsWith(root + sep)) throw notHere();
  if (dir === root || !(await stat(dir)).isDirectory())
    throw badInput("path must name a model directory", { field: "path" });
  // models/runs/<id> is where training runs write (trainModel registers a finished run itself,
  // after its test evaluation): a running, cancelled or failed run's folder is no model to register.
  if (inRunsFolder(root, dir)) throw badInput(RUNS_FOLDER_REFUSAL, { field: "path" });
  return dir;
}

export const RUNS_FOLDER_REFUSAL = "Training-run folders are registered by their run when it succeeds, not by path";

/** Whether `dir` lies in `<models>/runs` (`modelsRoot` and `dir` both real paths). */
export function inRunsFolder(modelsRoot: string, dir: string): boolean {
  const rel = relative(modelsRoot, dir);
  return rel.split(sep)[0] === "runs" && !isAbsolute(rel);
}
