import { describe, expect, it } from "vitest";
import { parseRecipe, parseTrainingConfig, recipeForRun } from "./trainingConfig.ts";

const base = { name: "rcmnet", version: "v1", inputSize: 64 };

describe("parseTrainingConfig (the worker reading a stored recipe)", () => {
  it("reads a from-scratch run's record, which has no transfer settings, even for one epoch", () => {
    // startTrainingRun records a one-epoch run from scratch as { epochs: 1, ... }: the default
    // frozen phase (2) must not make the worker refuse it, three attempts over.
    expect(parseTrainingConfig({ epochs: 1 })).toMatchObject({
      epochs: 1,
      frozenEpochs: 1,
      fineTuneLearningRate: 2e-4,
    });
    expect(parseTrainingConfig({ epochs: 6 })).toMatchObject({ frozenEpochs: 2 });
  });

  it("still refuses a given frozen phase longer than the run", () => {
    expect(() => parseTrainingConfig({ epochs: 2, frozenEpochs: 3 })).toThrow(
      /config\.frozenEpochs: frozenEpochs must not exceed epochs/,
    );
  });
});

describe("recipeForRun", () => {
  it("takes the base model's own input size, and records the transfer settings it applies", async () => {
    expect(recipeForRun(parseRecipe({ epochs: 3, inputSize: 64 }), base)).toEqual({
      epochs: 3,
      frozenEpochs: 2,
      batchSize: 16,
      learningRate: 1e-3,
      fineTuneLearningRate: 2e-4,
      seed: 1,
      inputSize: 64,
    });
  });

  it("accepts a width RCMNet can be built with, from scratch", async () => {
    expect(recipeForRun(parseRecipe({ widthMultiplier: 0.5 }), null)).toEqual({
      epochs: 6,
      batchSize: 16,
      learningRate: 1e-3,
      seed: 1,
      widthMultiplier: 0.5,
    });
  });
});
