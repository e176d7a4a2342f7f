import { tf } from '../../model/src/tf.js';
import { Network, archConfig } from '../../model/src/architecture.js';
import { registerNativeBackend } from '../src/index.js';
const [backend = 'native', sizeArg = '128', batchArg = '16', mode = 'train'] = process.argv.slice(2);
const size = Number(sizeArg), batch = Number(batchArg);
if (backend === 'native') { await registerNativeBackend();
  for (const k of (process.env.CPU_KERNELS ?? '').split(',').filter(Boolean)) { tf.unregisterKernel(k, 'native'); tf.registerKernel({ ...tf.getKernel(k, 'cpu')!, backendName: 'native' }); }
  if (process.env.ONLY) { const keep = new Set(process.env.ONLY.split(',')); for (const c of tf.getKernelsForBackend('cpu')) if (!keep.has(c.kernelName)) { tf.unregisterKernel(c.kernelName, 'native'); tf.registerKernel({ ...c, backendName: 'native' }); } }
}
if (backend === 'wasm') { await import('@tensorflow/tfjs-backend-wasm'); const m = await import('../../model/src/wasmTrainingKernels.js'); m.registerWasmTrainingKernels(); }
await tf.setBackend(backend); tf.enableProdMode();
const net = new Network(archConfig('rcmnet', { inputSize: size }));
const x = tf.randomNormal([batch, size, size, 3]) as tf.Tensor4D;
const y = tf.oneHot(tf.randomUniform([batch], 0, 8, 'int32') as tf.Tensor1D, 8);
const opt = tf.train.adam(1e-3);
const vars = net.params.trainable ? undefined : undefined;
const step = () => {
  if (mode === 'train') {
    const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, net.logits(x, { training: true })) as tf.Scalar, true);
    cost?.dataSync(); cost?.dispose();
  } else tf.tidy(() => net.logits(x, { training: false }).dataSync());
};
step();
const steps = Number(process.env.STEPS ?? 2);
const t0 = performance.now(); for (let i = 0; i < steps; i++) step();
const ms = (performance.now() - t0) / steps;
console.log(`${backend} ${mode} ${size}px b${batch}: ${ms.toFixed(0)} ms/step ${(batch / ms * 1000).toFixed(1)} img/s`);
if (process.env.PROFILE) {
  const info = await tf.profile(step);
  const by = new Map<string, number>(); let tot = 0;
  for (const k of info.kernels) { const t = k.kernelTimeMs as number; by.set(k.name, (by.get(k.name) ?? 0) + t); tot += t; }
  console.log('kernel sum', tot.toFixed(0), 'kernels', info.kernels.length);
  for (const [n, t] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 18)) console.log(n.padEnd(24), t.toFixed(1));
}
