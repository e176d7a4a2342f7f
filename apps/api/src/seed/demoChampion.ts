// The demo champion: a model directory from RCMNET_MODEL_DIR, else a small RCMNet trained on
// synthetic cells at first start (cached under <dataDir>/models/demo-champion[-e2e]).
import { access, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ModelVersion, Prisma, PrismaClient } from "@rcmnet/db";
import type { ModelRuntime, TrainProgress } from "../jobs/model/runtime.ts";
import { setChampion } from "../modules/models/setChampion.ts";
import { lockChampion } from "../modules/models/championLock.ts";
import { recordAudit } from "../audit/recordAudit.ts";

export interface ChampionRecipe {
  perClass: number;
  epochs: number;
  inputSize: number;
  widthMultiplier: number;
}

/**
 * 300 synthetic crops, 4 epochs at 48 px: 72 s on this 2-core machine with the native backend
 * while other builds ran (load 15); validation accuracy 0.97-1.0 from epoch 3.
 */
export const DEMO_RECIPE: ChampionRecipe = { perClass: 60, epochs: 4, inputSize: 48, widthMultiplier: 0.25 };
/** Seconds: predictions only need to exist for the end-to-end tests, not to be good. */
export const E2E_RECIPE: ChampionRecipe = { perClass: 12, epochs: 1, inputSize: 32, widthMultiplier: 0.125 };

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export async function ensureChampion(options: {
  prisma: PrismaClient;
  runtime: ModelRuntime;
  dataDir: string;
  /** A model directory to use instead of training one (RCMNET_MODEL_DIR). */
  modelDir?: string;
  recipe: ChampionRecipe;
  /** Where a trained champion is cached (default `<dataDir>/models/demo-champion`). */
  cacheDir?: string;
  say: (line: string) => void;
  progressBar: (fraction: number, label: string) => void;
}): Promise<ModelVersion> {
  const { prisma, runtime } = options;
  const current = await prisma.modelVersion.findFirst({ where: { status: "CHAMPION" } });
  if (current) return current;

  let dir = options.modelDir;
  if (dir) {
    options.say(`using the model in ${dir}`);
  } else {
    dir = options.cacheDir ?? join(options.dataDir, "models", "demo-champion");
    if (await exists(join(dir, "model-card.json"))) {
      options.say(`using the cached demo model (${dir})`);
    } else {
      const r = options.recipe;
      options.say(
        `training a small RCMNet on synthetic cells (${r.perClass * 5} crops, ${r.epochs} epochs, ${r.inputSize} px; first start only)`,
      );
      // Trained into a temporary dir and renamed: an interrupted first start leaves no half model.
      const tmp = `${dir}.partial-${process.pid}`;
      await rm(tmp, { recursive: true, force: true });
      await runtime.trainSynthetic({
        outDir: tmp,
        name: "rcmnet-demo",
        version: `synthetic-${r.inputSize}px-${r.epochs}ep`,
        perClass: r.perClass,
        epochs: r.epochs,
        inputSize: r.inputSize,
        widthMultiplier: r.widthMultiplier,
        seed: 7,
        onProgress: (p: TrainProgress) => {
          const last = p.history.at(-1);
          const acc = last?.valAccuracy ?? last?.trainAccuracy;
          options.progressBar(
            p.progress,
            `epoch ${p.epoch}/${p.epochs}${acc === undefined ? "" : `  acc ${acc.toFixed(2)}`}`,
          );
        },
      });
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    }
  }

  const info = await runtime.inspectModelDir(dir);
  return prisma.$transaction(async (tx: Prisma.TransactionClient) => {
    // The champion lock before the audit event below (the audit chain's lock): a worker finishing
    // an analysis holds the champion lock shared and then appends to the chain; the other order
    // here could deadlock with it.
    await lockChampion(tx);
    const version =
      (await tx.modelVersion.findFirst({ where: { artifactSha256: info.weightsSha256 } })) ??
      (await tx.modelVersion.create({
        data: {
          name: info.name,
          version: info.version,
          labels: info.labels,
          inputSize: info.inputSize,
          normalization: info.normalization as Prisma.InputJsonObject,
          architecture: info.architecture as Prisma.InputJsonObject,
          metrics: info.metrics as Prisma.InputJsonObject,
          // Absolute when outside <dataDir>/models (RCMNET_MODEL_DIR), relative otherwise.
          artifactPath: dir.startsWith(join(options.dataDir, "models"))
            ? dir.slice(join(options.dataDir, "models").length + 1)
            : dir,
          artifactSha256: info.weightsSha256,
          folderSha256: info.folderSha256,
        },
      }));
    await recordAudit(tx, null, {
      action: "model.register",
      entityType: "ModelVersion",
      entityId: version.id,
      after: {
        name: version.name,
        version: version.version,
        artifactSha256: version.artifactSha256,
        folderSha256: version.folderSha256,
        source: "demo seed",
      },
    });
    await setChampion(tx, null, version, "demo seed: initial champion");
    return tx.modelVersion.findUniqueOrThrow({ where: { id: version.id } });
  });
}
