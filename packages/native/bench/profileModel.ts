// Times and profiles per kernel exactly the step `rcmnet bench` measures: the model
// package's own RCMNet (`prepareBench`: ImageNet stem, model Optimizer, running
// batch-norm updates) on a backend.
// Usage: [STEPS=3] [PROFILE=1] [PROFILE_TOP=n] npx tsx bench/profileModel.ts [backend=native] [size=128] [mode=train|infer] [arch=rcmnet]
// Bisecting a native kernel: CPU_KERNELS=Name,... runs those on the cpu kernels
// instead; ONLY=Name,... keeps only those native.
import * as tf from '@tensorflow/tfjs';
import { prepareBench, type ArchName } from '@rcmnet/model';
import { registerNativeBackend } from '../src/index.js';

const [backend = 'native', sizeArg = '128', mode = 'train', arch = 'rcmnet'] = process.argv.slice(2);
if (mode !== 'train' && mode !== 'infer') throw new Error('mode must be train or infer');
if (backend === 'native') {
  if (!(await registerNativeBackend())) process.exit(1);
  const useCpu = (name: string) => {
    tf.unregisterKernel(name, 'native');
    tf.registerKernel({ ...tf.getKernel(name, 'cpu')!, backendName: 'native' });
  };
  for (const k of (process.env.CPU_KERNELS ?? '').split(',').filter(Boolean)) useCpu(k);
  if (process.env.ONLY) {
    const keep = new Set(process.env.ONLY.split(','));
    for (const c of tf.getKernelsForBackend('cpu')) if (!keep.has(c.kernelName)) useCpu(c.kernelName);
  }
}
const bench = await prepareBench(backend, { size: Number(sizeArg), mode, arch: arch as ArchName, steps: Number(process.env.STEPS ?? 3) });
const imgPerSec = await bench.time();
console.log(`${bench.backend} ${mode} ${sizeArg}px batch ${bench.batch} ${bench.arch}: ${((bench.batch / imgPerSec) * 1000).toFixed(0)} ms/step, ${imgPerSec} img/s`);
if (process.env.PROFILE) {
  const info = await tf.profile(() => bench.time().then(() => []));
  const byKernel = new Map<string, { ms: number; n: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = byKernel.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += t / bench.steps; e.n += 1 / bench.steps; total += t / bench.steps;
    byKernel.set(k.name, e);
  }
  console.log(`per step: ${info.kernels.length / bench.steps} kernel calls, kernel time ${total.toFixed(0)} ms`);
  for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25))
    console.log(`${name.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms ${e.n.toFixed(0).padStart(5)} calls`);
  if (process.env.PROFILE_TOP) {
    const top = [...info.kernels].sort((a, b) => (b.kernelTimeMs as number) - (a.kernelTimeMs as number)).slice(0, Number(process.env.PROFILE_TOP));
    for (const k of top) console.log(k.name, (k.kernelTimeMs as number).toFixed(1), JSON.stringify(k.inputShapes), JSON.stringify(k.outputShapes));
  }
}
bench.dispose();
