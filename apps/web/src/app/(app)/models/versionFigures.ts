// Which of a model version's recorded figures its detail panel shows. A version trained here has
// figures on a locked TEST part (metrics.test); one registered from a folder (the demo champion,
// RCMNET_MODEL_DIR) has only the trainer's own validation split (metrics.validation). Those are
// shown rather than nothing, but named for what they are: a validation split the trainer chose
// its epoch on is optimistic, and must not pass for a TEST figure.
import { readTestMetrics, type TestMetrics } from "@/lib/metrics";

export interface VersionFigures {
  source: "TEST" | "VALIDATION";
  /** Names the figures wherever they are shown (the confusion matrix's title, the per-class table). */
  name: string;
  /** Said beside validation figures; null for TEST ones. */
  caveat: string | null;
  figures: TestMetrics;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  Boolean(v) && typeof v === "object" && !Array.isArray(v);

export function versionFigures(metrics: unknown): VersionFigures {
  const m = isObject(metrics) ? metrics : {};
  if (!isObject(m.test) && isObject(m.validation)) {
    // Evaluated on a snapshot's locked TEST part since (a training run compares it there): those
    // figures exist, per snapshot, on Compare; this panel's are still the trainer's own.
    const evaluated = isObject(m.evaluations) && Object.keys(m.evaluations).length > 0;
    const where = evaluated
      ? "Its figures on locked TEST parts are per snapshot, under Compare; these are"
      : "No TEST figures yet (registered from a folder): these are";
    return {
      source: "VALIDATION",
      name: "validation split",
      caveat: `${where} the trainer's own validation split, not a locked TEST part, and likely optimistic.`,
      figures: readTestMetrics(m.validation),
    };
  }
  return { source: "TEST", name: "test", caveat: null, figures: readTestMetrics(m.test) };
}
