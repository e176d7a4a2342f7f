import { ANALYZE_SLIDE, TRAIN_MODEL } from "../analysisJobs.ts";
import type { ClassifierCache } from "../model/classifierCache.ts";
import type { ModelRuntime } from "../model/runtime.ts";
import type { JobHandler } from "../types.ts";
import { analyzeSlideHandler } from "./analyzeSlide.ts";
import { trainModelHandler } from "./trainModel.ts";

export interface HandlerDeps {
  runtime: ModelRuntime;
  classifiers: ClassifierCache;
}

/** Every job type the worker runs. A type missing here is never claimed by this worker. */
export function createHandlers(deps: HandlerDeps): Record<string, JobHandler> {
  return {
    [ANALYZE_SLIDE]: analyzeSlideHandler(deps),
    [TRAIN_MODEL]: trainModelHandler(deps),
  };
}
