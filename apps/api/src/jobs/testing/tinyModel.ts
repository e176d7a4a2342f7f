// A tiny RCMNet trained on synthetic cells, shared by the test files of one machine: trained
// once (seconds) into the system temp dir, then reused. Parallel test files race to build it;
// each trains into its own temporary dir and renames it into place, the first rename wins.
import { access, mkdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getModelRuntime, initModelBackend } from "../model/modelRuntime.ts";

export const TINY_RECIPE = { perClass: 12, epochs: 1, inputSize: 32, widthMultiplier: 0.125 } as const;

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Path of a trained tiny model directory (seed changes the weights, so two seeds = two models). */
export async function tinyModelDir(seed = 1): Promise<string> {
  const root = join(tmpdir(), "rcmnet-test-models");
  const dir = join(
    root,
    `tiny-v1-${TINY_RECIPE.inputSize}-${TINY_RECIPE.widthMultiplier}-${TINY_RECIPE.epochs}-${seed}`,
  );
  if (await exists(join(dir, "model-card.json"))) return dir;
  await mkdir(root, { recursive: true });
  await initModelBackend();
  const runtime = await getModelRuntime();
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await runtime.trainSynthetic({
    outDir: tmp,
    name: "tiny-test",
    version: `seed-${seed}`,
    ...TINY_RECIPE,
    seed,
    onProgress: () => undefined,
  });
  try {
    await rename(tmp, dir);
  } catch {
    // Another test file finished first: keep theirs.
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}
