// Placeholder until @rcmnet/model's train() is available: see trainModel implementation below.
import { PermanentJobError, type JobHandler } from "../types.ts";
import type { HandlerDeps } from "./index.ts";

export function trainModelHandler(_deps: HandlerDeps): JobHandler {
  return async () => {
    throw new PermanentJobError("training is not available in this build yet");
  };
}
