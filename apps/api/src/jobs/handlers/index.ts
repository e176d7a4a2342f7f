import { ANALYZE_SLIDE, REPREDICT_OPEN_CASES, TRAIN_MODEL } from "../analysisJobs.ts";
import type { ClassifierCache } from "../model/classifierCache.ts";
import type { ModelRuntime } from "../model/runtime.ts";
import type { JobHandler } from "../types.ts";
import { analyzeSlideHandler } from "./analyzeSlide.ts";
import { repredictOpenCasesHandler } from "./repredictOpenCases.ts";
import { trainModelHandler } from "./trainModel.ts";

export interface HandlerDeps {
  runtime: ModelRuntime;
  classifiers: ClassifierCache;
  /** RCMNET_BUILD_COMMIT (training runs record it where the checkout has no .git). */
  buildCommit?: string | undefined;
}

/** `types`: every job type this worker takes. */
const FACTORIES: Record<string, (deps: HandlerDeps, types: readonly string[]) => JobHandler> = {
  [ANALYZE_SLIDE]: analyzeSlideHandler,
  [TRAIN_MODEL]: trainModelHandler,
  // Steps back for waiting slide analyses only where this worker takes them too: elsewhere it
  // would hand itself back and claim itself again, for ever.
  [REPREDICT_OPEN_CASES]: (deps, types) => repredictOpenCasesHandler({ ...deps, yieldToAnalyses: types.includes(ANALYZE_SLIDE) }),
};

/**
 * The job types a worker takes, from RCMNET_WORKER_JOBS (comma-separated; empty or unset: all).
 * A worker for analysis only is never held up by a training run that takes hours, whatever the
 * queue's order. An unknown name is refused: a typo must not leave a worker that takes nothing.
 */
export function workerJobTypes(setting: string | undefined): string[] {
  const wanted = (setting ?? "").split(",").map((t) => t.trim()).filter(Boolean);
  if (wanted.length === 0) return Object.keys(FACTORIES);
  const unknown = wanted.filter((t) => !Object.hasOwn(FACTORIES, t));
  if (unknown.length) {
    throw new Error(`RCMNET_WORKER_JOBS names unknown job type(s) ${unknown.join(", ")}; known: ${Object.keys(FACTORIES).join(", ")}`);
  }
  return [...new Set(wanted)];
}

/** The handlers of `types` (default: every job type). A type missing here is never claimed by this worker. */
export function createHandlers(deps: HandlerDeps, types: readonly string[] = Object.keys(FACTORIES)): Record<string, JobHandler> {
  return Object.fromEntries(types.map((t) => [t, FACTORIES[t]!(deps, types)]));
}
