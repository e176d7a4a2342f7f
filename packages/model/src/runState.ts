// Whether a model directory holds a finished run's model, read from its card alone. Free of
// TensorFlow so that the API can ask it when a model is registered (`@rcmnet/model/runState`).
import type { ModelCard } from './artifact.js';

/** Where a model's training run stood when its card was written (`runState`). */
export interface RunState {
  /** The card is a finished run's (all epochs, or stopped early by patience), calibrated on validation. */
  finished: boolean;
  epochsRun: number | null;
  epochs: number | null;
  /** A temperature was fitted on validation (`calibration.fittedOn: "val"`). */
  calibrated: boolean;
}

/**
 * Whether `card` is a finished run's model. During training the best epoch's model is saved at the
 * end of that epoch with `training.complete: false` (not calibrated, mid-schedule); only the final
 * save of a run that was not cancelled writes `complete: true`. Cards written before that field:
 * unfinished only when clearly so, i.e. saved before the end-of-run calibration step (which always
 * records `eceAfter` or `notFittedBecause`), or stopped short of its epochs with no patience that
 * could have ended it early (a cancelled run). Anything else loads as finished, as it always did.
 */
export function runState(card: ModelCard): RunState {
  const t = card.training ?? {};
  const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : null);
  const epochsRun = int(t['epochsRun']);
  const epochs = int(t['epochs']);
  const calibrated = card.calibration?.fittedOn === 'val';
  if (typeof t['complete'] === 'boolean') return { finished: t['complete'], epochsRun, epochs, calibrated };
  const c = card.calibration ?? {};
  const calibrationRan = calibrated || c.eceAfter !== undefined || c.notFittedBecause !== undefined;
  // Without a run's record (a card written by other tools) nothing is clear: finished.
  if (epochsRun === null || epochs === null) return { finished: true, epochsRun, epochs, calibrated };
  const cancelled = epochsRun < epochs && (t['patience'] === null || t['patience'] === undefined);
  return { finished: calibrationRan && !cancelled, epochsRun, epochs, calibrated };
}

/** One line for stderr when `card` is not a finished run's model, else null. */
export function unfinishedWarning(dir: string, card: ModelCard): string | null {
  const s = runState(card);
  if (s.finished) return null;
  return `model ${dir} is from an unfinished run: ${runStateText(s)} (saved during training, or the run was stopped); its figures and probabilities are not a finished model's`;
}

/** Where an unfinished run stood, as its warnings and refusals say it: "epoch 1 of 30, not calibrated". */
export function runStateText(s: RunState): string {
  const at = s.epochsRun !== null ? `epoch ${s.epochsRun}${s.epochs !== null ? ` of ${s.epochs}` : ''}` : 'an epoch';
  return `${at}, ${s.calibrated ? 'calibrated' : 'not calibrated'}`;
}
