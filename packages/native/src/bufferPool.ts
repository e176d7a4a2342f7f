// Reuses the Float32Arrays that native kernels write their outputs into.
//
// Why: a fresh `new Float32Array(n)` is zero-filled memory the OS maps page by
// page on first touch; for a 16 MB activation that costs ~12 ms, several times
// the ~4 ms the multiply into it takes (measured, bench/notes in
// docs/performance-model.md). A training step allocates the same sizes every
// step, so recycling them removes that cost and the GC churn.
//
// Safety: a buffer returns to the pool only when no TensorData refers to it any
// more. Counting is per ArrayBuffer, not per tensor, because the cpu backend's
// Slice (and so unstack/split) returns `subarray` views that alias the parent's
// buffer. Pooled buffers are never handed to user code: the backend's readSync
// returns a copy of them (see nativeBackendCpu.ts).
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly live = new Map<ArrayBufferLike, number>();
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private freeBytes = 0;

  constructor(private readonly maxFreeBytes = 2 * 1024 ** 3) {}

  /** A buffer of exactly `length` elements with unspecified contents. */
  take(length: number): Float32Array {
    const recycled = this.free.get(length)?.pop();
    if (recycled) {
      this.freeBytes -= recycled.byteLength;
      return recycled;
    }
    const fresh = new Float32Array(length);
    this.owned.add(fresh.buffer);
    return fresh;
  }

  isPooled(values: unknown): values is Float32Array {
    return ArrayBuffer.isView(values) && this.owned.has(values.buffer);
  }

  /** A TensorData now refers to `values`. */
  retain(values: unknown): void {
    if (!this.isPooled(values)) return;
    this.live.set(values.buffer, (this.live.get(values.buffer) ?? 0) + 1);
  }

  /** A TensorData that referred to `values` is gone; the buffer is reusable once none remain. */
  release(values: unknown): void {
    if (!this.isPooled(values)) return;
    const buffer = values.buffer;
    const count = (this.live.get(buffer) ?? 0) - 1;
    if (count > 0) {
      this.live.set(buffer, count);
      return;
    }
    this.live.delete(buffer);
    if (this.freeBytes + buffer.byteLength > this.maxFreeBytes) return; // let GC have it
    const whole = new Float32Array(buffer);
    const list = this.free.get(whole.length);
    if (list) list.push(whole);
    else this.free.set(whole.length, [whole]);
    this.freeBytes += buffer.byteLength;
  }

  stats(): { freeBytes: number; liveBuffers: number } {
    return { freeBytes: this.freeBytes, liveBuffers: this.live.size };
  }
}
