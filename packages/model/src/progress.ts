/** Progress lines for the `rcmnet` CLI, on stderr: redrawn in place on a terminal, every 5 s otherwise. */

/** Where a progress line goes; tests give a fake clock and collect the lines. */
export interface ProgressOutput {
  tty: boolean;
  write(s: string): void;
  now(): number;
}

function stderrOutput(): ProgressOutput {
  return { tty: Boolean(process.stderr.isTTY), write: (s) => process.stderr.write(s), now: Date.now };
}

export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s % 60)).padStart(2, '0')}`;
}

/**
 * A progress line for work counted in items, e.g. `decoding [####....] 40/100 images 12.5/s ETA 0:05`.
 * The rate is timed from the first report, not from when the printer was made: `rcmnet eval` makes
 * its printer before loading the model and decoding every image, and that time (minutes on a large
 * set) made the rate too low and the ETA too long. The first report's items are not counted: when
 * they were started is not known (decoding reports after each image, not before the first).
 */
export function countPrinter(what: string, unit: string, out: ProgressOutput = stderrOutput()): (done: number, total: number) => void {
  let first: { at: number; done: number } | undefined;
  let lastPrint = 0;
  return (done, total) => {
    const now = out.now();
    first ??= { at: now, done };
    if (!out.tty && now - lastPrint < 5000 && done !== total) return;
    lastPrint = now;
    const width = 24;
    const filled = Math.round((done / Math.max(1, total)) * width);
    const seconds = (now - first.at) / 1000;
    // No time gone yet: no rate, rather than an item over a millisecond's floor.
    const rate = seconds > 0 ? (done - first.done) / seconds : Number.NaN;
    const line = `${what} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${unit} ${Number.isFinite(rate) ? rate.toFixed(1) : '--'}/s ETA ${fmtTime(done === total ? 0 : (total - done) / rate)}`;
    out.write(out.tty ? `\r${line}\x1b[K${done === total ? '\n' : ''}` : `${line}\n`);
  };
}
