// The demo champion: a model directory from RCMNET_MODEL_DIR, else a small RCMNet trained on
// synthetic cells at first start (cached under <dataDir>/models/demo-champion[-e2e]).
import { access, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ModelVersion, PrismaClient } from "@rcmnet/db";
import type { ModelRuntime, TrainProgress } from "../jobs/model/runtime.ts";
import { championFromModelDir, installChampion } from "./modelDirChampion.ts";

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
  // RCMNET_MODEL_DIR: its checks, refusals and start-log line are modelDirChampion.ts's.
  if (options.modelDir) {
    const { champion, line, installed } = await championFromModelDir(prisma, { dataDir: options.dataDir, modelDir: options.modelDir, demo: true });
    options.say(installed ? `using the model in ${options.modelDir}` : line);
    return champion;
  }
  const current = await prisma.modelVersion.findFirst({ where: { status: "CHAMPION" } });
  if (current) return current;

  const dir = options.cacheDir ?? join(options.dataDir, "models", "demo-champion");
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

  const info = await runtime.inspectModelDir(dir);
  return (await installChampion(prisma, { dir, dataDir: options.dataDir, info, from: "demo" })).champion;
}
