// Heavy work run inside a request (a model over thousands of images): a few runs at a time per
// process, and a caller asking for work already under way waits for that run instead of
// starting another.
import { Semaphore, slotOrBusy } from "./semaphore.ts";

export function sharedRunner(slots: number, waitMs: number, busyMessage: string) {
  const slot = new Semaphore(slots);
  const running = new Map<string, Promise<unknown>>();
  return function run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const existing = running.get(key) as Promise<T> | undefined;
    if (existing) return existing;
    const mine = (async () => {
      const release = await slotOrBusy(slot, waitMs, busyMessage);
      try {
        return await work();
      } finally {
        release();
      }
    })();
    running.set(key, mine);
    const done = () => running.delete(key);
    mine.then(done, done);
    return mine;
  };
}
