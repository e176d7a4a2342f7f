import * as tf from '@tensorflow/tfjs';
import {
  GATE_APPLY, GATE_APPLY_GRAD, GATED_CHANNEL_AVG_MAX, GATED_CHANNEL_AVG_MAX_GRAD, Network, SPATIAL_AVG_MAX, SPATIAL_AVG_MAX_GRAD, archConfig,
  gateApply, gatedChannelAvgMax, spatialAvgMax,
} from '@rcmnet/model';
import { expect, it } from 'vitest';
import { loadAddon } from '../addon.js';
import { defaultParallelMin } from '../registerNativeBackend.js';
import { describeNative, expectParity, nativeBackend, randomTensor } from '../testing/parity.js';
import { attentionKernels } from './attention.js';

type Shape4 = [number, number, number, number];

// Every CBAM op and its gradients in one graph: a loss over all three outputs,
// differentiated with respect to x and both gates.
function cbamOpsAndGrads(shape: Shape4, x: tf.Tensor4D, seed = 10): tf.Tensor[] {
  const [b, h, w, c] = shape;
  const channelGate = tf.sigmoid(randomTensor([b, c], seed, 2)) as tf.Tensor2D;
  const spatialGate = tf.sigmoid(randomTensor([b, h, w, 1], seed + 1, 2)) as tf.Tensor4D;
  const [t1, t2, t3] = [[b, h, w, c], [b, h, w, 2], [2 * b, c]].map((s, i) => randomTensor(s, seed + 2 + i));
  const loss = (xx: tf.Tensor, cg: tf.Tensor, sg: tf.Tensor) => tf.addN([
    tf.sum(tf.mul(gateApply(xx as tf.Tensor4D, cg as tf.Tensor2D, sg as tf.Tensor4D), t1!)),
    tf.sum(tf.mul(gatedChannelAvgMax(xx as tf.Tensor4D, cg as tf.Tensor2D), t2!)),
    tf.sum(tf.mul(spatialAvgMax(xx as tf.Tensor4D), t3!)),
  ]);
  return [
    gateApply(x, channelGate, spatialGate), gatedChannelAvgMax(x, channelGate), spatialAvgMax(x),
    ...tf.grads(loss)([x, channelGate, spatialGate]),
  ];
}

// On the cpu backend the CBAM ops run as tfjs ops (the model's fallback: max-pool
// windows, concat, broadcast multiplies); on the native backend as fused kernels.
describeNative('fused CBAM attention kernels match the tfjs-op fallback', () => {
  it('are registered under the op names @rcmnet/model calls', () => {
    expect(Object.keys(attentionKernels).sort()).toEqual(
      [SPATIAL_AVG_MAX, SPATIAL_AVG_MAX_GRAD, GATED_CHANNEL_AVG_MAX, GATED_CHANNEL_AVG_MAX_GRAD, GATE_APPLY, GATE_APPLY_GRAD].sort());
    for (const name of Object.keys(attentionKernels)) {
      expect(tf.getKernel(name, nativeBackend!)).toBeDefined();
      expect(tf.getKernel(name, 'cpu')).toBeUndefined();
    }
  });

  for (const shape of [[2, 5, 7, 8], [1, 1, 1, 1], [3, 4, 4, 19], [16, 4, 4, 33], [1, 9, 3, 64]] as Shape4[]) {
    it(`forward and gradients, ${shape.join('x')}`, async () => {
      await expectParity(() => cbamOpsAndGrads(shape, randomTensor(shape, 1, 3) as tf.Tensor4D), { rtol: 1e-4, atol: 1e-5 });
    });
  }

  it('tied maxima: the gradient goes to the first maximum, as tfjs max-pool', async () => {
    // Values in {-2, ..., 2}: every window has ties; a constant gate keeps them tied after gating.
    const shape: Shape4 = [2, 3, 4, 5];
    await expectParity(() => {
      const x = tf.round(tf.mul(randomTensor(shape, 3), 2)) as tf.Tensor4D;
      const [b, , , c] = shape;
      const gate = tf.fill([b, c], 0.5) as tf.Tensor2D;
      const t = randomTensor([b, 3, 4, 2], 4);
      return [
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(spatialAvgMax(a as tf.Tensor4D), randomTensor([2 * b, c], 5))))(x),
        ...tf.grads((a: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(gatedChannelAvgMax(a as tf.Tensor4D, g as tf.Tensor2D), t)))([x, gate]),
      ];
    }, { rtol: 0, atol: 1e-6 });
  });

  it('give the same results when every loop runs on all threads (the quiet-machine mode)', async () => {
    const { addon } = await loadAddon();
    addon!.setParallelMin(1);
    try {
      await expectParity(() => cbamOpsAndGrads([5, 6, 6, 24], randomTensor([5, 6, 6, 24], 7, 2) as tf.Tensor4D), { rtol: 1e-4, atol: 1e-5 });
    } finally {
      addon!.setParallelMin(defaultParallelMin());
    }
  });

  it('a whole RCMNet (CBAM in every block) gives the same logits and gradients on both paths', async () => {
    await expectParity(() => {
      const net = new Network(archConfig('rcmnet', { inputSize: 32, numClasses: 3, widthMultiplier: 0.125 }));
      const x = randomTensor([2, 32, 32, 3], 8) as tf.Tensor4D;
      const vars = [...net.params.trainable().values()];
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(net.logits(x, { training: true }))) as tf.Scalar, vars);
      const out = [net.logits(x, { training: false }), value, ...vars.map((v) => grads[v.name]!)];
      net.dispose();
      return out;
    }, { rtol: 1e-3, atol: 1e-4 });
  });

  it('reject a non-float32 input or wrong lengths with a clear error', async () => {
    await tf.setBackend(nativeBackend!);
    const x = tf.zeros([1, 2, 2, 3], 'int32');
    expect(() => tf.engine().runKernel(SPATIAL_AVG_MAX, { x })).toThrow(/x must be a float32 tensor/);
    x.dispose();
    const { addon } = await loadAddon();
    expect(() => addon!.gateApply(new Float32Array(12), new Float32Array(3), new Float32Array(3), 1, 4, 3, new Float32Array(12)))
      .toThrow(/gateApply spatialGate: buffer has 3 elements, shape needs 4/);
    expect(() => addon!.spatialAvgMax(new Float32Array(12), 1, 4, 0, new Float32Array(0))).toThrow(/must be positive/);
  });
});
