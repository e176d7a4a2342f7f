// Times (and optionally profiles per kernel) training or inference steps of the
// model package's own RCMNet (`@rcmnet/model` Network) on a backend.
// Usage: [STEPS=2] [PROFILE=1] npx tsx bench/profileModel.ts [backend=native] [size=128] [batch=16] [mode=train|infer]
// Bisecting a native kernel: CPU_KERNELS=Name,... runs those on the cpu kernels
// instead; ONLY=Name,... keeps only those native.
import * as tf from '@tensorflow/tfjs';
import { Network, archConfig, initBackend } from '@rcmnet/model';
import { registerNativeBackend } from '../src/index.js';

const [backend = 'native', sizeArg = '128', batchArg = '16', mode = 'train'] = process.argv.slice(2);
const size = Number(sizeArg), batch = Number(batchArg);
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
await initBackend({ backend, quiet: true });
const net = new Network(archConfig('rcmnet', { inputSize: size }));
const x = tf.randomNormal([batch, size, size, 3]) as tf.Tensor4D;
const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 8), 'int32'), 8);
const optimizer = tf.train.adam(1e-3);
const step = () => {
  if (mode === 'train') optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, net.logits(x, { training: true })) as tf.Scalar, true)!.dispose();
  else tf.tidy(() => net.logits(x, { training: false }).dataSync());
};
step();
const steps = Number(process.env.STEPS ?? 2);
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const ms = (performance.now() - t0) / steps;
console.log(`${backend} ${mode} ${size}px batch ${batch}: ${ms.toFixed(0)} ms/step, ${((batch / ms) * 1000).toFixed(1)} img/s`);
if (process.env.PROFILE) {
  const info = await tf.profile(step);
  const byKernel = new Map<string, number>();
  let total = 0;
  for (const k of info.kernels) {
    const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + t);
    total += t;
  }
  console.log(`kernel calls ${info.kernels.length}, kernel time ${total.toFixed(0)} ms`);
  for (const [name, t] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${name.padEnd(24)} ${t.toFixed(1).padStart(8)} ms`);
}
