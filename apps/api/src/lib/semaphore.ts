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
 * A semaphore per key (a user), created on first use and dropped when nothing holds or awaits
 * it: no one key can take every slot of a shared pool behind it.
 */
export class KeyedSemaphore {
  private readonly byKey = new Map<string, { slots: Semaphore; users: number }>();

  constructor(private readonly perKey: number) {}

  acquire(key: string, timeoutMs: number): Promise<() => void> {
    let entry = this.byKey.get(key);
    if (!entry) this.byKey.set(key, (entry = { slots: new Semaphore(this.perKey), users: 0 }));
    const e = entry;
    e.users++;
    const leave = () => {
      if (--e.users === 0) this.byKey.delete(key);
    };
    return e.slots.acquire(timeoutMs).then(
      (release) => once(() => {
        release();
        leave();
      }),
      (err: unknown) => {
        leave();
        throw err;
      },
    );
  }

  /** The slots of one key, as slotOrBusy takes them. */
  for(key: string): SlotPool {
    return { acquire: (timeoutMs) => this.acquire(key, timeoutMs) };
  }

  /** Keys with a slot held or awaited (for tests). */
  get size(): number {
    return this.byKey.size;
  }
}

/**
 * A slot of `slots` for a request, or RATE_LIMITED (HTTP 429) saying `busyMessage` once `timeoutMs`
 * has passed: the server is busy with others' work, and the client may try again.
 */
export interface SlotPool {
  acquire(timeoutMs: number): Promise<() => void>;
}

export function slotOrBusy(slots: SlotPool, timeoutMs: number, busyMessage: string): Promise<() => void> {
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
