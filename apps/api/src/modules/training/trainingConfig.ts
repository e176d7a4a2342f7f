// The training recipe a DATA_SCIENTIST may set. Bounded so that one request cannot occupy a
// worker for days or exhaust its memory; unknown keys are refused (a typo is not ignored).
import { z } from "zod";
import { badInput } from "../../errors.ts";

export const trainingConfigSchema = z
  .object({
    /** Total epochs; the first `frozenEpochs` train only the head (transfer learning). */
    epochs: z.number().int().min(1).max(100).default(6),
    frozenEpochs: z.number().int().min(0).max(100).default(2),
    batchSize: z.number().int().min(1).max(128).default(16),
    learningRate: z.number().positive().max(1).default(1e-3),
    /** Learning rate once the backbone is unfrozen (smaller: keep what the base learned). */
    fineTuneLearningRate: z.number().positive().max(1).default(2e-4),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    /** Only when training without a base model. */
    inputSize: z.number().int().min(16).max(224).optional(),
    widthMultiplier: z.number().positive().max(1).optional(),
  })
  .strict()
  .refine((c) => c.frozenEpochs <= c.epochs, {
    message: "frozenEpochs must not exceed epochs",
    path: ["frozenEpochs"],
  });

export type TrainingConfig = z.infer<typeof trainingConfigSchema>;

export function parseTrainingConfig(input: unknown): TrainingConfig {
  const parsed = trainingConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `config.${issue.path.join(".")}` : "config";
    throw badInput(`Invalid training config: ${where}: ${issue?.message ?? "invalid"}`, { field: where });
  }
  return parsed.data;
}
