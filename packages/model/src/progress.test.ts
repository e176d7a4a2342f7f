import { describe, expect, it } from 'vitest';
import { countPrinter } from './progress.js';

/** A printer on a fake clock (ms) that keeps its lines. */
function fakePrinter(tty: boolean) {
  const clock = { ms: 0 };
  const lines: string[] = [];
  const print = countPrinter('eval', 'images', { tty, write: (s) => lines.push(s), now: () => clock.ms });
  return { clock, lines, print };
}

describe('countPrinter', () => {
  it('times the work from its first report, not from when the printer was made', () => {
    // rcmnet eval makes its printer before loading the model and decoding the images (here 100 s).
    const { clock, lines, print } = fakePrinter(false);
    clock.ms = 100_000;
    print(0, 100);
    clock.ms = 110_000;
    print(20, 100);
    // 20 images in 10 s: 2.0/s and 80 left, 0:40; timed from construction it read 0.2/s, ETA 7:20.
    expect(lines.at(-1)).toBe('eval [#####...................] 20/100 images 2.0/s ETA 0:40\n');
  });

  it('counts only the items done after the first report', () => {
    // Decoding reports after each image: the first one's time is not known, so it is not counted.
    const { clock, lines, print } = fakePrinter(true);
    clock.ms = 50_000;
    print(4, 100);
    expect(lines.at(-1)).toMatch(/ 4\/100 images --\/s ETA --:--/);
    clock.ms = 54_000;
    print(12, 100);
    expect(lines.at(-1)).toMatch(/ 12\/100 images 2\.0\/s ETA 0:44/);
  });
});
