// Profiles one training (or inference) step of the RCMNet-shaped network on a
// backend and prints time per kernel, largest first.
// Usage: npx tsx bench/profile.ts [backend=native] [size=128] [batch=16] [mode=train|infer]
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerNativeBackend } from '../src/index.js';
import { Optimizer } from '@rcmnet/model';
import { RcmnetShaped, trainStep } from './rcmnetShaped.js';

const [backend = 'native', sizeArg = '128', batchArg = '16', mode = 'train'] = process.argv.slice(2);
const size = Number(sizeArg), batch = Number(batchArg);
if (backend === 'native' && !(await registerNativeBackend())) process.exit(1);
await tf.setBackend(backend);
const net = new RcmnetShaped(size);
net.training = mode === 'train';
const x = tf.randomNormal([batch, size, size, 3]) as tf.Tensor4D;
const y = tf.oneHot(tf.randomUniform([batch], 0, 8, 'int32') as tf.Tensor1D, 8) as tf.Tensor2D;
const opt = new Optimizer({ kind: 'adam' });
const step = () => {
  if (mode === 'train') {
    trainStep(net, opt, x, y);
  } else {
    tf.tidy(() => net.forward(x).dataSync());
  }
};
step();
const steps = Number(process.env.STEPS ?? 1);
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const ms = (performance.now() - t0) / steps;
console.log(`${backend} ${mode} ${size}px batch ${batch}: step ${ms.toFixed(0)} ms, ${(batch / (ms / 1000)).toFixed(1)} img/s, params ${net.paramCount()}`);
if (process.env.NO_PROFILE) process.exit(0);
const info = await tf.profile(step);
const byKernel = new Map<string, { ms: number; n: number }>();
let total = 0;
for (const k of info.kernels) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const e = byKernel.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += ms; e.n += 1; total += ms;
  byKernel.set(k.name, e);
}
console.log(`kernels: ${info.kernels.length}, sum of kernel time ${total.toFixed(0)} ms`);
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25))
  console.log(`${name.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(5)} calls`);
if (process.env.PROFILE_TOP) {
  const top = [...info.kernels].sort((a, b) => (b.kernelTimeMs as number) - (a.kernelTimeMs as number)).slice(0, Number(process.env.PROFILE_TOP));
  for (const k of top) console.log(k.name, (k.kernelTimeMs as number).toFixed(1), JSON.stringify(k.inputShapes), JSON.stringify(k.outputShapes));
}
