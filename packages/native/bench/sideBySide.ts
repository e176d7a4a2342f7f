// Side-by-side throughput: the native backend running the RCMNet-shaped network
// (bench/rcmnetShaped.ts, the same layers and parameter count as the PyTorch
// peer script) against that peer, interleaved round by round so both see the
// same machine load; prints one JSON line per round and a median ratio.
// Usage: npx tsx bench/sideBySide.ts SIZE BATCH MODE(train|infer) [ROUNDS=3] [STEPS=3]
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { nativeBackendInfo, registerNativeBackend } from '../src/index.js';
import { Optimizer } from '@rcmnet/model';
import { RcmnetShaped, trainStep } from './rcmnetShaped.js';

const [sizeArg = '128', batchArg = '16', mode = 'train', roundsArg = '3', stepsArg = '3'] = process.argv.slice(2);
const size = Number(sizeArg), batch = Number(batchArg), rounds = Number(roundsArg), steps = Number(stepsArg);
if (mode !== 'train' && mode !== 'infer') throw new Error('MODE must be train or infer');
const peerScript = path.resolve(import.meta.dirname, '../../../../shared/bench/torch_rcmnet.py');

const backend = await registerNativeBackend();
if (!backend) process.exit(1);
await tf.setBackend(backend);
tf.enableProdMode();
const net = new RcmnetShaped(size);
net.training = mode === 'train';
const x = tf.randomNormal([batch, size, size, 3]) as tf.Tensor4D;
const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 8), 'int32'), 8) as tf.Tensor2D;
const optimizer = new Optimizer({ kind: 'adam' });
const step = () => {
  if (mode === 'train') trainStep(net, optimizer, x, y);
  else tf.tidy(() => net.forward(x).dataSync());
};
step(); // warm-up: primitive creation, buffer pool fill

const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  const { stdout } = await promisify(execFile)('/usr/bin/python3', [peerScript, String(size), String(batch), mode, String(steps)], { timeout: 900_000 });
  const peer = JSON.parse(stdout.trim().split('\n').pop()!) as { img_per_s: number; peer: string; params: number };
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const native = Math.round(((batch * steps) / ((performance.now() - t0) / 1000)) * 100) / 100;
  const ratio = Math.round((native / peer.img_per_s) * 1000) / 1000;
  ratios.push(ratio);
  console.log(JSON.stringify({ round: r + 1, mode, size, batch, native, peer: peer.img_per_s, ratio, params: net.paramCount(), peerParams: peer.params }));
}
const sorted = [...ratios].sort((a, b) => a - b);
console.log(JSON.stringify({ summary: true, mode, size, batch, rounds, medianRatio: sorted[Math.floor(sorted.length / 2)], ratios, native: nativeBackendInfo() }));
