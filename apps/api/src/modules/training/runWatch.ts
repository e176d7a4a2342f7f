// Whether a queued or running training run is stuck with no worker: its job queued with no worker
// taking it, or running with a lease nobody renews; or queued behind the jobs a living worker is
// busy with (jobs/jobWatch.ts, the rule the champion's re-prediction uses). Without it the
// Retraining page showed a bar at 0% (or frozen) and kept new runs refused, with nothing saying why.
import type { PrismaClient, TrainingRun } from "@rcmnet/db";
import { trainingKey } from "../../jobs/analysisJobs.ts";
import { jobWatch, type JobWatch } from "../../jobs/jobWatch.ts";
import { runEnded } from "../../jobs/reconcileTrainingRuns.ts";

const NOTHING: JobWatch = { waitingForWorkerSince: null, queuedBehind: null, stalledSince: null };

/** Per row read (its fields ask once); an ended run's job is not read at all. */
const asked = new WeakMap<TrainingRun, Promise<JobWatch>>();

export function runWatch(db: Pick<PrismaClient, "$queryRaw">, run: TrainingRun): Promise<JobWatch> {
  if (runEnded(run.status)) return Promise.resolve(NOTHING);
  let watch = asked.get(run);
  if (!watch) {
    watch = jobWatch(db, { dedupeKey: trainingKey(run.id) });
    asked.set(run, watch);
  }
  return watch;
}
