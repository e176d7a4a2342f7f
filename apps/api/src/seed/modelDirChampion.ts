// The first champion set at start, without the promotion workflow: the demo's own model, or the
// model directory RCMNET_MODEL_DIR names (the demo's, or a real install's first champion, put
// there by the operator of the host). Only when there is no champion yet: a champion is replaced
// only by a promotion an admin approves (decidePromotion). And never a model the registry already
// turned away (a promotion rejected or awaiting its decision, withdrawn by a rollback, retired),
// nor one registerModel would refuse (assertRegistrable), nor a second model.register event for
// weights already registered.
import { hostname } from "node:os";
import { basename, join, relative, resolve, sep } from "node:path";
import { realpath } from "node:fs/promises";
import type { ModelVersion, Prisma, PrismaClient } from "@rcmnet/db";
import { ConfigurationError } from "../env.ts";
import { AppError } from "../errors.ts";
import { inspectModelDir } from "../jobs/model/modelRuntime.ts";
import type { ModelDirInfo } from "../jobs/model/runtime.ts";
import { lockChampion } from "../modules/models/championLock.ts";
import { createModelVersion } from "../modules/models/createModelVersion.ts";
import { assertRegistrable, inRunsFolder, refuseRegistered, RUNS_FOLDER_REFUSAL } from "../modules/models/registerModel.ts";
import { setChampion } from "../modules/models/setChampion.ts";

/** A start refused: the message says what to do instead (the launcher prints it and stops). */
export class ChampionRefused extends ConfigurationError {
  override name = "ChampionRefused";
}

export const DEMO_CHAMPION_REASON = "demo seed: initial champion";

/** The champion-setting event's reason for a real install's RCMNET_MODEL_DIR. */
export function operatorChampionReason(dir: string): string {
  return `installed at start from RCMNET_MODEL_DIR (folder "${basename(dir)}") by the operator of host ${hostname()}: the install's first champion, set without a promotion`;
}

export interface StartChampion {
  /** The champion after the call. */
  champion: ModelVersion;
  /** One line for the start log: what was done. */
  line: string;
  /** Made champion by this call. */
  installed: boolean;
}

/**
 * RCMNET_MODEL_DIR at start (`demo`: the demo seed, else a real install). With a champion
 * already serving, nothing changes, whatever the folder holds: the line says whether it is that
 * champion or was not used. Otherwise its model becomes the first champion, or the start is
 * refused (ChampionRefused) saying why.
 */
export async function championFromModelDir(
  prisma: PrismaClient,
  options: { dataDir: string; modelDir: string; demo: boolean },
): Promise<StartChampion> {
  // Absolute: a relative path would be stored as one under <dataDir>/models (resolveModelDir).
  const dir = resolve(options.modelDir);
  const current = await prisma.modelVersion.findFirst({ where: { status: "CHAMPION" } });
  if (current) return { champion: current, line: await keptChampion(current, dir), installed: false };
  let info: ModelDirInfo;
  try {
    info = await inspectModelDir(dir);
  } catch (err) {
    throw new ChampionRefused(`RCMNET_MODEL_DIR (${dir}) is not a valid model directory: ${(err as Error).message}`);
  }
  return installChampion(prisma, { dir, dataDir: options.dataDir, info, from: options.demo ? "demoModelDir" : "operator" });
}

/** The start-log line when a champion already serves and RCMNET_MODEL_DIR is set. */
async function keptChampion(current: ModelVersion, dir: string): Promise<string> {
  let weights: string | null = null;
  try {
    weights = (await inspectModelDir(dir)).weightsSha256;
  } catch {
    // Said below: the folder is not used either way.
  }
  if (weights === current.artifactSha256) return `champion: ${current.name} ${current.version} (the model in RCMNET_MODEL_DIR; unchanged)`;
  return (
    `RCMNET_MODEL_DIR (${dir}) not used: ${current.name} ${current.version} is the champion and stays so. ` +
    "A champion is replaced only by a promotion approved in the dashboard (register the model under Models and propose it); " +
    "RCMNET_MODEL_DIR only installs a first champion"
  );
}

/**
 * Makes the model in `dir` (inspected: `info`) the first champion, in one transaction under the
 * champion lock. `from`: "demo" the demo's own model (trained or cached), "demoModelDir" the demo
 * with RCMNET_MODEL_DIR, "operator" a real install's RCMNET_MODEL_DIR. A champion that appeared
 * meanwhile is kept.
 */
export async function installChampion(
  prisma: PrismaClient,
  options: { dir: string; dataDir: string; info: ModelDirInfo; from: "demo" | "demoModelDir" | "operator" },
): Promise<StartChampion> {
  const { dir, info, from } = options;
  const what = from === "demo" ? `The demo model (${dir})` : `The model in RCMNET_MODEL_DIR (${dir})`;
  const refuse = (why: string) => new ChampionRefused(`${what} is not made champion: ${why}`);
  if (from !== "demo") {
    try {
      assertRegistrable(info);
    } catch (err) {
      throw refuse((err as Error).message);
    }
  }
  const modelsDir = join(options.dataDir, "models");
  const modelsRoot = await realpath(modelsDir).catch(() => resolve(modelsDir));
  const realDir = await realpath(dir).catch(() => dir);
  // Relative when inside <dataDir>/models, absolute otherwise (resolveModelDir reads both).
  const inModels = (d: string, base: string) => d.startsWith(base + sep);
  const artifactPath = inModels(dir, resolve(modelsDir))
    ? relative(resolve(modelsDir), dir)
    : inModels(realDir, modelsRoot)
      ? relative(modelsRoot, realDir)
      : dir;
  try {
    return await prisma.$transaction(async (tx: Prisma.TransactionClient) => {
      // The champion lock before the audit event below (the audit chain's lock): a worker
      // finishing an analysis holds the champion lock shared and then appends to the chain; the
      // other order here could deadlock with it.
      await lockChampion(tx);
      const current = await tx.modelVersion.findFirst({ where: { status: "CHAMPION" } });
      if (current) return { champion: current, line: `champion: ${current.name} ${current.version} (set meanwhile; unchanged)`, installed: false };
      const registered = await tx.modelVersion.findFirst({ where: { artifactSha256: info.weightsSha256 } });
      let version: ModelVersion;
      if (registered) {
        const why = await notServable(tx, registered);
        if (why) throw refuse(`${registered.name} ${registered.version}, registered with these weights, ${why}`);
        version = registered;
      } else {
        if (from !== "demo" && inRunsFolder(modelsRoot, realDir)) throw refuse(RUNS_FOLDER_REFUSAL);
        const spellings = [artifactPath, dir, realDir, ...(inModels(realDir, modelsRoot) ? [relative(modelsRoot, realDir)] : [])];
        await refuseRegistered(tx, info, spellings);
        version = await createModelVersion(
          tx,
          null,
          { info, artifactPath },
          from === "operator"
            ? { source: "RCMNET_MODEL_DIR at start", artifactPath, cropContext: info.cropContext, host: hostname() }
            : { source: "demo seed", ...(from === "demoModelDir" && { folder: basename(dir) }) },
        );
      }
      const reason =
        from === "operator"
          ? operatorChampionReason(dir)
          : from === "demoModelDir"
            ? `${DEMO_CHAMPION_REASON} from RCMNET_MODEL_DIR (folder "${basename(dir)}")`
            : DEMO_CHAMPION_REASON;
      await setChampion(tx, null, version, reason);
      const champion = await tx.modelVersion.findUniqueOrThrow({ where: { id: version.id } });
      const how = registered ? "already registered as a candidate" : "registered now";
      return {
        champion,
        installed: true,
        line:
          from === "operator"
            ? `champion: ${champion.name} ${champion.version}, installed from RCMNET_MODEL_DIR (${dir}; ${how}) as the first champion, audited as set by this host's operator`
            : `champion: ${champion.name} ${champion.version}`,
      };
    });
  } catch (err) {
    // A registry refusal (the same name and version, a reused folder) said as the start's.
    if (err instanceof AppError) throw refuse(err.message);
    throw err;
  }
}

/**
 * Why a registered version may not be made champion at start (null: it may): the registry has
 * already turned it away, or a person is about to decide on it. Only an admin's decision in the
 * dashboard changes that.
 */
async function notServable(tx: Prisma.TransactionClient, version: ModelVersion): Promise<string | null> {
  const dashboard = "propose it through the dashboard (Models), where another admin decides, or unset RCMNET_MODEL_DIR";
  if (version.status === "ARCHIVED") {
    // The approved change that last replaced it as champion: a rollback withdrew it, a promotion retired it.
    const last = await tx.modelPromotion.findFirst({
      where: { state: "APPROVED", replacesChampionId: version.id },
      orderBy: [{ decidedAt: "desc" }, { id: "desc" }],
      include: { modelVersion: { select: { name: true, version: true } } },
    });
    const when = last?.decidedAt ? ` on ${last.decidedAt.toISOString().slice(0, 10)}` : "";
    const again = "to serve it again, propose a rollback to it through the dashboard (Models), where another admin decides, or unset RCMNET_MODEL_DIR";
    if (last?.kind === "ROLLBACK") return `was withdrawn by a rollback approved${when}: ${again}`;
    const by = last ? ` by ${last.modelVersion.name} ${last.modelVersion.version}${when}` : "";
    return `was retired as champion (replaced${by}): ${again}`;
  }
  if (version.status !== "CANDIDATE") return `is ${version.status}`;
  const promotions = await tx.modelPromotion.findMany({
    where: { modelVersionId: version.id, kind: "PROMOTE", state: { in: ["REJECTED", "PROPOSED"] } },
    orderBy: [{ proposedAt: "desc" }, { id: "desc" }],
  });
  const pending = promotions.find((p) => p.state === "PROPOSED");
  if (pending) return `has a promotion proposal awaiting an admin's decision: decide it in the dashboard (Models), or unset RCMNET_MODEL_DIR`;
  const rejected = promotions.find((p) => p.state === "REJECTED");
  if (rejected) {
    const when = rejected.decidedAt ? ` on ${rejected.decidedAt.toISOString().slice(0, 10)}` : "";
    return `had its promotion rejected${when}${rejected.decisionNote ? ` ("${rejected.decisionNote.slice(0, 200)}")` : ""}: ${dashboard}`;
  }
  return null;
}
