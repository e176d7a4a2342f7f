// The backend object behind the 'native' backend name: tfjs's pure-JS cpu
// backend (plain TypedArray storage, every kernel available as a fallback)
// plus a buffer pool for native kernel outputs.
import type { DataId } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { BufferPool } from './bufferPool.js';

type Entry = { values?: unknown };

export class NativeBackendCpu extends MathBackendCPU {
  readonly pool: BufferPool;

  constructor(poolMaxFreeBytes?: number) {
    super();
    this.pool = new BufferPool(poolMaxFreeBytes);
    // The cpu backend's first write prints "install tfjs-node to speed things up";
    // that advice is wrong for this backend, so mark the notice as already shown.
    (this as unknown as { firstUse: boolean }).firstUse = false;
    const storage = this.data as unknown as {
      set(id: DataId, v: Entry): void; delete(id: DataId): boolean; has(id: DataId): boolean; get(id: DataId): Entry;
    };
    const set = storage.set.bind(storage);
    const del = storage.delete.bind(storage);
    storage.set = (id, value) => {
      if (storage.has(id)) this.pool.release(storage.get(id).values);
      this.pool.retain(value.values);
      set(id, value);
    };
    storage.delete = (id) => {
      if (storage.has(id)) this.pool.release(storage.get(id).values);
      return del(id);
    };
  }

  // Callers of dataSync()/data() may keep the array after disposing the tensor;
  // a pooled buffer would then change under them, so they get a copy.
  override readSync(dataId: DataId): ReturnType<MathBackendCPU['readSync']> {
    const values = super.readSync(dataId);
    return this.pool.isPooled(values) ? values.slice() : values;
  }
}
