import { beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURES, Network, archConfig, stageSizes, widthProblem } from './architecture.js';
import { initBackend } from './backend.js';
import { tf } from './tf.js';
import { conv2dFilterGrad, conv2dInputGrad } from './wasmTrainingKernels.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

describe('architecture builder', () => {
  it.each(ARCHITECTURES)('%s: logits and feature shapes at 32 px', (arch) => {
    const net = new Network(archConfig(arch, { inputSize: 32, widthMultiplier: 0.25, numClasses: 5 }));
    const [features, logits] = tf.tidy(() => {
      const f = net.features(tf.zeros([2, 32, 32, 3]), { training: false });
      return [f.shape, net.head(f).shape];
    });
    expect(logits).toEqual([2, 5]);
    const last = stageSizes(net.config)[3]!;
    expect(features).toEqual([2, last, last, net.config.widths[3]]);
    net.dispose();
  });

  it('full-width ResNet18 has exactly the torchvision parameter count (8-class head)', () => {
    // torchvision resnet18: 11,689,512 with a 1000-way fc; minus 513,000, plus 512*8+8.
    const counts = Object.fromEntries(
      ARCHITECTURES.map((arch) => {
        const net = new Network(archConfig(arch, { inputSize: 224, numClasses: 8 }));
        const n = net.params.countLearnable();
        net.dispose();
        return [arch, n];
      }),
    );
    expect(counts['resnet18']).toBe(11_689_512 - 513_000 + 4_104);
    // CBAM adds parameters; MHSA (qkv 1x1 + positions) replaces two 3x3 512->512 convs.
    expect(counts['resnet18-cbam']).toBeGreaterThan(counts['resnet18']!);
    expect(counts['resnet18-mhsa']).toBeLessThan(counts['resnet18']!);
    expect(counts['rcmnet']).toBeGreaterThan(counts['resnet18-mhsa']!);
  });

  it('uses the imagenet stem (7x7/2 + pool) for large inputs and the compact one for small', () => {
    expect(archConfig('rcmnet', { inputSize: 224 }).stem).toMatchObject({ kernel: 7, maxPool: true });
    expect(stageSizes(archConfig('rcmnet', { inputSize: 224 }))).toEqual([56, 28, 14, 7]);
    expect(archConfig('rcmnet', { inputSize: 32 }).stem).toMatchObject({ kernel: 3, maxPool: false });
  });

  it('rejects unknown architectures and head counts that do not divide the width', () => {
    expect(() => archConfig('vgg16' as never)).toThrow(/Unknown architecture/);
    expect(() => archConfig('rcmnet', { heads: 3 })).toThrow(/not divisible/);
  });

  it('checks the width against the attention heads only where there are heads', () => {
    // 512 x 0.3 = 154: not divisible by 4 heads, and no concern of a network without attention.
    expect(() => archConfig('rcmnet', { widthMultiplier: 0.3 })).toThrow(/Last-stage width 154 is not divisible by 4 heads/);
    expect(() => archConfig('resnet18-mhsa', { widthMultiplier: 0.3 })).toThrow(/not divisible/);
    expect(widthProblem('rcmnet', 0.3)).toMatch(/^0.3 gives rcmnet a last-stage width of 154 .*not divisible by its 4 attention heads/);
    for (const arch of ['resnet18', 'resnet18-cbam'] as const) {
      expect(widthProblem(arch, 0.3)).toBeNull();
      const net = new Network(archConfig(arch, { inputSize: 32, widthMultiplier: 0.3, numClasses: 3 }));
      expect(net.config.widths[3]).toBe(154);
      const out = tf.tidy(() => net.logits(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D, { training: false }));
      expect(out.shape).toEqual([1, 3]);
      out.dispose();
      net.dispose();
    }
    expect(widthProblem('rcmnet', 0.25)).toBeNull();
  });

  it('a gradient reaches every trainable variable of RCMNet', () => {
    const net = new Network(archConfig('rcmnet', { inputSize: 32, widthMultiplier: 0.25, numClasses: 3, seed: 4 }));
    const vars = net.params.trainable();
    const norms = tf.tidy(() => {
      const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, net.logits(x, { training: true })) as tf.Scalar, [...vars.values()]);
      return Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.norm(g).dataSync()[0]!]));
    });
    expect(Object.keys(norms)).toHaveLength(vars.size);
    const dead = Object.entries(norms).filter(([, n]) => !(n > 0) || !Number.isFinite(n));
    expect(dead).toEqual([]);
    // The attention modules really are in the graph.
    expect([...vars.keys()].some((k) => k.includes('/mhsa/rel_h'))).toBe(true);
    expect([...vars.keys()].some((k) => k.includes('/cbam/spatial'))).toBe(true);
    net.dispose();
  });
});

describe('wasm training kernels', () => {
  // Reference: the gradient definition, summed explicitly in JS.
  function refFilterGrad(x: number[][][][], dy: number[][][][], k: number, stride: number, pad: number, cin: number, cout: number) {
    const out = new Float64Array(k * k * cin * cout);
    for (let b = 0; b < x.length; b++)
      for (let oy = 0; oy < dy[0]!.length; oy++)
        for (let ox = 0; ox < dy[0]![0]!.length; ox++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const iy = oy * stride + ky - pad;
              const ix = ox * stride + kx - pad;
              if (iy < 0 || ix < 0 || iy >= x[0]!.length || ix >= x[0]![0]!.length) continue;
              for (let ci = 0; ci < cin; ci++)
                for (let co = 0; co < cout; co++) out[((ky * k + kx) * cin + ci) * cout + co]! += x[b]![iy]![ix]![ci]! * dy[b]![oy]![ox]![co]!;
            }
    return out;
  }

  it.each([
    [3, 1],
    [3, 2],
    [1, 2],
  ])('filter gradient (k=%i, stride=%i) matches the definition, input gradient matches autodiff on cpu', async (k, stride) => {
    const x = tf.randomNormal([2, 7, 7, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, 3, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    const y = tf.conv2d(x, w, stride, 'same');
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 4) as tf.Tensor4D;
    const attrs = { strides: stride, pad: 'same' };
    const dw = conv2dFilterGrad(x, dy, w.shape, attrs);
    const pad = Math.max(0, Math.floor(((Math.ceil(7 / stride) - 1) * stride + k - 7) / 2));
    const ref = refFilterGrad(x.arraySync(), dy.arraySync(), k, stride, pad, 3, 4);
    const got = dw.dataSync();
    for (let i = 0; i < ref.length; i++) expect(got[i]).toBeCloseTo(ref[i]!, 3);
    // Input gradient: compare with tfjs's own cpu kernel.
    const dx = conv2dInputGrad(dy, w, x.shape, attrs).dataSync();
    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    const cpuDx = tf.conv2dTranspose(tf.tensor4d(dy.dataSync(), dy.shape), tf.tensor4d(w.dataSync(), w.shape), x.shape, stride, 'same').dataSync();
    await tf.setBackend(backend);
    for (let i = 0; i < dx.length; i++) expect(dx[i]).toBeCloseTo(cpuDx[i]!, 3);
    tf.dispose([x, w, y, dy, dw]);
  });
});
