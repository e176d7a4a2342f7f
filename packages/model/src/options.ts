/**
 * Option checks shared by training and prediction. An OptionError is a caller's mistake (the CLI
 * answers it with exit 64 and the usage line); any other error, a RangeError from deep inside tfjs
 * included, is a failure of the work itself.
 */
export class OptionError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

/**
 * Refuses an abstention threshold that cannot work with `classes` outputs: the top probability of K
 * classes is never under 1/K, so one at or below it never leaves a cell for review; one over 1 (or
 * NaN) leaves every cell for review.
 */
export function checkAbstainThreshold(threshold: number, classes: number, name = 'abstainThreshold'): void {
  const floor = 1 / classes;
  if (threshold <= floor) throw new OptionError(`${name} ${threshold} never abstains with ${classes} classes (the top probability is at least ${floor.toFixed(3)}): choose one above it`);
  // Written so that NaN lands here too: no confidence is ever >= NaN.
  if (!(threshold <= 1)) throw new OptionError(`${name} ${threshold} abstains on every cell (no probability is over 1): choose one in (${floor.toFixed(3)}, 1]`);
}
