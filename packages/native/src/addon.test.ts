import { cpus, loadavg } from 'node:os';
import { afterEach, expect, it } from 'vitest';
import { idleShare, openMpWaiting } from './addon.js';

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
