import { cpus, loadavg } from 'node:os';
import { afterEach, expect, it } from 'vitest';
import { idleShare, loadAddon, openMpWaiting } from './addon.js';

const SPIN = { GOMP_SPINCOUNT: '1000000' };
const PASSIVE = { OMP_WAIT_POLICY: 'PASSIVE' };
const saved = { ...process.env };
afterEach(() => {
  for (const k of ['OMP_WAIT_POLICY', 'GOMP_SPINCOUNT']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

it('idleShare samples the CPU counters over the interval and returns a share', () => {
  const t0 = performance.now();
  const share = idleShare(120);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
  expect(share).toBeGreaterThanOrEqual(0);
  expect(share).toBeLessThanOrEqual(1);
});

it('OpenMP threads spin unless the load average is high and the CPU is busy right now', () => {
  delete process.env['OMP_WAIT_POLICY'];
  delete process.env['GOMP_SPINCOUNT'];
  // An idle CPU now wins over a lagging load average (the state right after a build).
  expect(openMpWaiting(() => 1)).toEqual(SPIN);
  const highLoad = (loadavg()[0] ?? 0) > cpus().length;
  expect(openMpWaiting(() => 0)).toEqual(highLoad ? PASSIVE : SPIN);
});

it("the user's own OpenMP settings win", () => {
  process.env['OMP_WAIT_POLICY'] = 'ACTIVE';
  expect(openMpWaiting(() => 0)).toEqual({});
});

// The addon is exported, so its entry points check what JS hands them rather than trust the kernels.
const { addon } = await loadAddon(() => {});
it.skipIf(!addon)('malformed shapes and numbers are refused with an error, never read out of bounds', () => {
  const a = addon!;
  const f = (n: number) => new Float32Array(n);
  const params = [1, 1, 0, 0, 0, 0, 1, 1];
  // A filter shape of rank 1 with a bias: refused before the bias length reads its 4th entry.
  expect(() => a.conv2d(f(16), [1, 4, 4, 1], f(1), [1], f(1), f(16), [1, 4, 4, 1], params, 0, null, 0)).toThrow(/rank 4/);
  // NaN, fractions and negative sizes are not shapes.
  expect(() => a.conv2d(f(16), [1, 4, NaN, 1], f(9), [3, 3, 1, 1], null, f(16), [1, 4, 4, 1], params, 0, null, 0)).toThrow(/integers/);
  expect(() => a.conv2d(f(16), [1, 4, 4.5, 1], f(9), [3, 3, 1, 1], null, f(16), [1, 4, 4, 1], params, 0, null, 0)).toThrow(/integers/);
  expect(() => a.transpose(f(4), [-2, -2], [1, 0], f(4))).toThrow(/negative or too large/);
  // A product that would wrap around to the buffer's length.
  expect(() => a.transpose(f(4), [2 ** 33, 2 ** 33, 4], [0, 1, 2], f(4))).toThrow(/negative or too large/);
  // A repeated axis keeps the element count but would read past the input.
  expect(() => a.transpose(f(9), [3, 3], [0, 0], f(9))).toThrow(/permutation/);
});
