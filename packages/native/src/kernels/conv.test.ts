import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { convSettingsGeneration, loadAddon, openMpSpins } from '../addon.js';
import { describeNative, expectParity, randomTensor } from '../testing/parity.js';

type Case = { x: [number, number, number, number]; k: number; cout: number; stride: number; pad: 'same' | 'valid'; dilation?: number };
const cases: Case[] = [
  { x: [2, 9, 9, 5], k: 3, cout: 7, stride: 1, pad: 'same' },
  { x: [2, 9, 9, 5], k: 3, cout: 7, stride: 2, pad: 'same' },
  { x: [2, 10, 8, 4], k: 3, cout: 6, stride: 2, pad: 'valid' },
  { x: [1, 7, 7, 8], k: 1, cout: 16, stride: 1, pad: 'valid' },
  { x: [3, 8, 8, 8], k: 1, cout: 4, stride: 2, pad: 'same' },
  { x: [1, 19, 17, 3], k: 7, cout: 8, stride: 2, pad: 'same' }, // the stem's shape class
  { x: [2, 12, 12, 2], k: 7, cout: 1, stride: 1, pad: 'same' }, // CBAM spatial attention
  { x: [1, 11, 11, 3], k: 3, cout: 5, stride: 1, pad: 'same', dilation: 2 },
  // Channels in whole blocks of 8 / 16: the blocked filter layouts need no padding.
  { x: [2, 6, 6, 16], k: 3, cout: 24, stride: 1, pad: 'same' },
  { x: [2, 9, 9, 32], k: 3, cout: 32, stride: 2, pad: 'same' },
  { x: [1, 13, 13, 3], k: 7, cout: 16, stride: 2, pad: 'same' },
];
const name = (c: Case) => `x ${c.x.join('x')} k${c.k} s${c.stride} ${c.pad}${c.dilation ? ` d${c.dilation}` : ''} -> ${c.cout}`;

// Convolutions run with NHWC or blocked activations depending on the CPU (csrc/conv.cc):
// both layouts are tested on every machine.
const layouts = ['nhwc', 'blocked'] as const;
function inLayout(layout: (typeof layouts)[number]): void {
  beforeAll(async () => (await loadAddon()).addon!.setConvLayout(layout));
  afterAll(async () => (await loadAddon()).addon!.setConvLayout('auto'));
}

describeNative('setConvLayout', () => {
  it('refuses an unknown layout with a clear error and keeps the current one', async () => {
    const { addon } = await loadAddon();
    const before = addon!.info().convLayout;
    expect(() => addon!.setConvLayout('nchw' as never)).toThrow(/layout must be auto, nhwc or blocked/);
    expect(() => addon!.setConvLayout(42 as never)).toThrow(/layout must be a string/);
    expect(addon!.info().convLayout).toBe(before);
  });
});

for (const layout of layouts) describeNative(`native Conv2D and FusedConv2D match the cpu backend (${layout} activations)`, () => {
  inLayout(layout);
  for (const c of cases) {
    it(`forward ${name(c)}`, async () => {
      await expectParity(() => tf.conv2d(randomTensor(c.x, 1) as tf.Tensor4D, randomTensor([c.k, c.k, c.x[3], c.cout], 2) as tf.Tensor4D,
        c.stride, c.pad, 'NHWC', c.dilation ?? 1));
    });
  }
  for (const activation of ['linear', 'relu', 'sigmoid', 'elu'] as const) {
    it(`fused conv + bias + ${activation}`, async () => {
      await expectParity(() => tf.fused.conv2d({
        x: randomTensor([2, 9, 9, 5], 1) as tf.Tensor4D, filter: randomTensor([3, 3, 5, 7], 2) as tf.Tensor4D,
        strides: 2, pad: 'same', bias: randomTensor([7], 3), activation,
      }));
    });
  }
  it('fused conv with a bias that broadcasts along W, not channels ([C, 1] with OW = C), added as tfjs broadcasts it', async () => {
    await expectParity(() => tf.fused.conv2d({
      x: randomTensor([1, 4, 4, 3], 1) as tf.Tensor4D, filter: randomTensor([3, 3, 3, 4], 2) as tf.Tensor4D,
      strides: 1, pad: 'same', bias: randomTensor([4, 1], 3), activation: 'relu',
    }));
  });
  it("a rounding mode ('ceil', 'round') gives tfjs's output size (left to the cpu kernel)", async () => {
    await expectParity(() => (['ceil', 'round'] as const).map((mode) =>
      tf.conv2d(randomTensor([1, 6, 6, 2], 1) as tf.Tensor4D, randomTensor([3, 3, 2, 3], 2) as tf.Tensor4D, 2, 1, 'NHWC', 1, mode)));
  });
  it('fused conv with a scalar bias and no bias', async () => {
    const x = () => randomTensor([1, 6, 6, 3], 1) as tf.Tensor4D, w = () => randomTensor([3, 3, 3, 4], 2) as tf.Tensor4D;
    await expectParity(() => [
      tf.fused.conv2d({ x: x(), filter: w(), strides: 1, pad: 'same', bias: tf.scalar(0.5), activation: 'relu' }),
      tf.fused.conv2d({ x: x(), filter: w(), strides: 1, pad: 'valid', activation: 'relu' }),
    ]);
  });
});

describeNative('native Conv2D reuses reordered filters safely', () => {
  it('a filter reordered before a convolution setting changed is reordered again after it', async () => {
    const addon = (await loadAddon()).addon!;
    const before = convSettingsGeneration;
    addon.setSingleThreadFlops(1e9);
    expect(convSettingsGeneration).toBeGreaterThan(before);
    try {
      await expectParity(() => {
        const w = randomTensor([3, 3, 16, 64], 2) as tf.Tensor4D;
        const x = randomTensor([1, 6, 6, 16], 1) as tf.Tensor4D;
        const outs = [tf.conv2d(x, w, 1, 'same'), tf.conv2d(x, w, 1, 'same')]; // the second use caches it
        addon.setSingleThreadFlops(0); // now every convolution may take another implementation
        outs.push(tf.conv2d(x, w, 1, 'same'));
        return outs;
      });
    } finally {
      addon.setSingleThreadFlops(openMpSpins ? 4e6 : 32e6); // registerNativeBackend's choice
    }
  });
  it('same filter three times (cached from the second use), then other filters of the same shape', async () => {
    await expectParity(() => {
      const w = randomTensor([3, 3, 16, 16], 2) as tf.Tensor4D;
      const xs = [1, 3, 4].map((seed) => randomTensor([2, 6, 6, 16], seed) as tf.Tensor4D);
      const outs = xs.map((x) => tf.conv2d(x, w, 1, 'same'));
      // New filter tensors (as after an optimizer step) must not hit the cached copy.
      for (let seed = 5; seed < 8; seed++) outs.push(tf.conv2d(xs[0]!, randomTensor([3, 3, 16, 16], seed) as tf.Tensor4D, 1, 'same'));
      const v = tf.variable(w);
      outs.push(tf.conv2d(xs[0]!, v as tf.Tensor4D, 1, 'same'), tf.conv2d(xs[1]!, v as tf.Tensor4D, 1, 'same'));
      v.assign(tf.neg(w));
      outs.push(tf.conv2d(xs[0]!, v as tf.Tensor4D, 1, 'same'), tf.conv2d(xs[1]!, v as tf.Tensor4D, 1, 'same'));
      v.dispose();
      return outs;
    });
  });
});

for (const layout of layouts) describeNative(`native convolution gradients match the cpu backend (${layout} activations)`, () => {
  inLayout(layout);
  for (const c of cases.filter((k) => !k.dilation)) {
    it(`d/dx and d/dw ${name(c)}`, async () => {
      await expectParity(() => {
        const x = randomTensor(c.x, 1), w = randomTensor([c.k, c.k, c.x[3], c.cout], 2);
        const target = randomTensor(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad).shape, 3);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), target)))([x, w]);
      });
    });
  }
  it('fused conv + bias + relu: gradients of x, filter and bias', async () => {
    await expectParity(() => {
      const x = randomTensor([2, 8, 8, 4], 1), w = randomTensor([3, 3, 4, 6], 2), b = randomTensor([6], 3);
      return tf.grads((a: tf.Tensor, f: tf.Tensor, bias: tf.Tensor) =>
        tf.sum(tf.square(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 2, pad: 'same', bias, activation: 'relu' }))))([x, w, b]);
    });
  });
});
