// A counting semaphore with a waiting limit: work that holds a lot of memory (an upload's bodies
// and decoded pixels) runs a few at a time per process; a caller that waits too long is told so.
import { rateLimited } from "../errors.ts";

export class SlotTimeoutError extends Error {
  override name = "SlotTimeoutError";
}

export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(slots: number) {
    if (!(Number.isInteger(slots) && slots >= 1)) throw new RangeError(`slots must be a whole number >= 1, got ${slots}`);
    this.free = slots;
  }

  /** Resolves with a release function once a slot is free; rejects with SlotTimeoutError after `timeoutMs`. */
  acquire(timeoutMs: number): Promise<() => void> {
    const release = () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve(once(release));
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new SlotTimeoutError(`no free slot within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push(grant);
    });
  }
}

/**
 * A slot of `slots` for a request, or RATE_LIMITED (HTTP 429) saying `busyMessage` once `timeoutMs`
 * has passed: the server is busy with others' work, and the client may try again.
 */
export function slotOrBusy(slots: Semaphore, timeoutMs: number, busyMessage: string): Promise<() => void> {
  return slots.acquire(timeoutMs).catch(() => {
    throw rateLimited(busyMessage);
  });
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
