// The training recipe a DATA_SCIENTIST may set. Bounded so that one request cannot occupy a
// worker for days or exhaust its memory; unknown keys are refused (a typo is not ignored).
import { widthProblem } from "@rcmnet/model/widthRule";
import { z } from "zod";
import { badInput } from "../../errors.ts";

const recipeSchema = z
  .object({
    /** Total epochs; with a base model the first `frozenEpochs` train only the head. */
    epochs: z.number().int().min(1).max(100).default(6),
    /** Transfer learning only (default 2, at most `epochs`). */
    frozenEpochs: z.number().int().min(0).max(100).optional(),
    batchSize: z.number().int().min(1).max(128).default(16),
    learningRate: z.number().positive().max(1).default(1e-3),
    /**
     * Transfer learning only (default 2e-4): the learning rate once the backbone is unfrozen
     * (smaller: keep what the base learned).
     */
    fineTuneLearningRate: z.number().positive().max(1).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    /** From scratch: a base model's network fixes both (its own input size is taken, as harmless). */
    inputSize: z.number().int().min(16).max(224).optional(),
    widthMultiplier: z.number().positive().max(1).optional(),
  })
  .strict()
  .refine((c) => c.frozenEpochs === undefined || c.frozenEpochs <= c.epochs, {
    message: "frozenEpochs must not exceed epochs",
    path: ["frozenEpochs"],
  });

/** The recipe as a request gave it: the transfer-learning settings absent unless given. */
export type GivenRecipe = z.infer<typeof recipeSchema>;
/** The recipe as the worker trains it, the transfer-learning settings resolved. */
export type TrainingConfig = GivenRecipe & { frozenEpochs: number; fineTuneLearningRate: number };

/** What a run fine-tunes: the network it keeps, and how to name it. Null: from scratch. */
export interface RecipeBase {
  name: string;
  version: string;
  inputSize: number;
}

export function parseRecipe(input: unknown): GivenRecipe {
  const parsed = recipeSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `config.${issue.path.join(".")}` : "config";
    throw badInput(`Invalid training config: ${where}: ${issue?.message ?? "invalid"}`, { field: where });
  }
  return parsed.data;
}

/** A stored recipe as the worker trains it (a from-scratch run's omits the transfer settings). */
export function parseTrainingConfig(input: unknown): TrainingConfig {
  return withTransferDefaults(parseRecipe(input));
}

function withTransferDefaults(recipe: GivenRecipe): TrainingConfig {
  return {
    ...recipe,
    // Capped: `{ epochs: 1 }` was refused for a frozen phase longer than the run, which it never asked for.
    frozenEpochs: recipe.frozenEpochs ?? Math.min(2, recipe.epochs),
    fineTuneLearningRate: recipe.fineTuneLearningRate ?? 2e-4,
  };
}

/**
 * The recipe to queue and record for a run from `base`, refusing any setting the run would not
 * apply: the record (its training.start event is frozen by a trigger) must describe the model that
 * was trained, not one at 128 px when the base fixed 64. A value equal to the base's is harmless.
 * The base's width multiplier is not registered (only its widths), so none is taken with a base,
 * as `rcmnet train` takes no --width with --from.
 */
export function recipeForRun(given: GivenRecipe, base: RecipeBase | null): GivenRecipe {
  if (base) {
    const model = `the base model ${base.name} ${base.version}`;
    if (given.inputSize !== undefined && given.inputSize !== base.inputSize) {
      throw notApplied(
        "inputSize",
        `fine-tuning keeps the input size of ${model}, ${base.inputSize} px, not ${given.inputSize}; leave it out`,
      );
    }
    if (given.widthMultiplier !== undefined) {
      throw notApplied(
        "widthMultiplier",
        `fine-tuning keeps the network of ${model}, its widths included; leave it out`,
      );
    }
    return withTransferDefaults(given);
  }
  for (const key of ["frozenEpochs", "fineTuneLearningRate"] as const) {
    if (given[key] !== undefined) {
      throw notApplied(
        key,
        "it applies to transfer learning only, and with no champion and no base model named this run trains from scratch; leave it out",
      );
    }
  }
  if (given.widthMultiplier !== undefined) {
    // The trainer's own rule (a from-scratch run builds RCMNet, whose attention heads split the
    // last stage's channels): the worker would find out only after copying the snapshot, three
    // attempts over.
    const problem = widthProblem("rcmnet", given.widthMultiplier);
    if (problem)
      throw badInput(`Invalid training config: config.widthMultiplier: ${problem}`, {
        field: "config.widthMultiplier",
      });
  }
  return given;
}

function notApplied(key: keyof GivenRecipe, why: string) {
  const where = `config.${key}`;
  return badInput(`Invalid training config: ${where} does not apply to this run: ${why}`, { field: where });
}
