/**
 * RCMNet and its comparison models, built from one configurable ResNet18 builder.
 *
 * Layout (NHWC, tfjs-native):
 *   stem: conv k x k / stride s -> BN -> ReLU -> [maxpool 3x3/2]
 *   4 stages of 2 BasicBlocks (widths 64/128/256/512 x widthMultiplier, stride 1/2/2/2)
 *   BasicBlock: conv3x3 -> BN -> ReLU -> conv3x3|MHSA -> BN -> [CBAM] -> + shortcut -> ReLU
 *   head: global average pool -> linear
 * CBAM (Woo et al. 2018) sits inside every block before the addition; MHSA (BoTNet,
 * Srinivas et al. 2021) replaces the second 3x3 convolution of the blocks in
 * `mhsa.stages` (default: the last). The first block of a stage keeps its strided conv1,
 * so the MHSA always runs at the stage's output resolution. See docs/model.md.
 */
import { batchNormTraining, gateApply, gatedChannelAvgMax, spatialAvgMax } from './fusedOps.js';
import { tf } from './tf.js';
import { ParamStore, filled, heNormal, uniformInit } from './params.js';
import { Rng, deriveSeed } from './rng.js';
import { ARCHITECTURES, hasMhsa, scaledWidth, type ArchName } from './widthRule.js';

export { ARCHITECTURES, hasMhsa, widthProblem, type ArchName } from './widthRule.js';

export interface ArchConfig {
  arch: ArchName;
  inputSize: number;
  numClasses: number;
  widths: [number, number, number, number];
  blocksPerStage: [number, number, number, number];
  stem: { width: number; kernel: number; stride: number; maxPool: boolean };
  cbam: { enabled: boolean; reduction: number; spatialKernel: number; minHidden: number };
  mhsa: { enabled: boolean; heads: number; stages: number[] };
  bnMomentum: number;
  seed: number;
}

export interface ArchOptions {
  inputSize?: number;
  numClasses?: number;
  /** Scales every width (0.25 gives 16/32/64/128): small models for tests and demos. */
  widthMultiplier?: number;
  /**
   * 'imagenet': 7x7/2 conv + 3x3/2 max pool (the paper's ResNet18, for 128-224 px).
   * 'compact': 3x3/2 conv, no pool, for 32-64 px inputs so the last stage is not 1x1.
   */
  stem?: 'imagenet' | 'compact';
  heads?: number;
  cbamReduction?: number;
  seed?: number;
}

export function archConfig(arch: ArchName, options: ArchOptions = {}): ArchConfig {
  if (!ARCHITECTURES.includes(arch)) throw new Error(`Unknown architecture "${arch}"; expected one of ${ARCHITECTURES.join(', ')}`);
  const m = options.widthMultiplier ?? 1;
  const w = (c: number) => scaledWidth(c, m);
  const inputSize = options.inputSize ?? 224;
  const stem = options.stem ?? (inputSize >= 96 ? 'imagenet' : 'compact');
  const heads = options.heads ?? 4;
  const widths: [number, number, number, number] = [w(64), w(128), w(256), w(512)];
  // Heads split the last stage's channels only where there is attention.
  if (hasMhsa(arch) && widths[3] % heads !== 0) throw new Error(`Last-stage width ${widths[3]} is not divisible by ${heads} heads`);
  return {
    arch,
    inputSize,
    numClasses: options.numClasses ?? 8,
    widths,
    blocksPerStage: [2, 2, 2, 2],
    stem: stem === 'imagenet' ? { width: w(64), kernel: 7, stride: 2, maxPool: true } : { width: w(64), kernel: 3, stride: 2, maxPool: false },
    cbam: { enabled: arch === 'rcmnet' || arch === 'resnet18-cbam', reduction: options.cbamReduction ?? 16, spatialKernel: 7, minHidden: 4 },
    mhsa: { enabled: hasMhsa(arch), heads, stages: [3] },
    bnMomentum: 0.9,
    seed: options.seed ?? 1,
  };
}

/** Spatial size of each stage's output for the configured input. */
export function stageSizes(c: ArchConfig): number[] {
  let s = Math.ceil(c.inputSize / c.stem.stride);
  if (c.stem.maxPool) s = Math.ceil(s / 2);
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    if (i > 0) s = Math.ceil(s / 2);
    out.push(s);
  }
  return out;
}

export interface ForwardContext {
  /** BatchNorm uses batch statistics and records running-stat updates. */
  training: boolean;
  /** Filled during training: new running statistics, applied after the optimizer step. */
  bnUpdates?: { variable: tf.Variable; value: tf.Tensor }[];
}

const EPS = 1e-5;

// Max reductions written as max pools: the gradient of `tf.max` is built from Equal +
// Tile and took a quarter of a training step on wasm; MaxPoolGrad is one native kernel.
export class Network {
  readonly params = new ParamStore();
  private readonly rng: Rng;

  constructor(readonly config: ArchConfig) {
    this.rng = new Rng(deriveSeed(config.seed, 'init'));
    this.build();
  }

  get headPrefix(): string {
    return 'head/';
  }

  private conv(key: string, k: number, cin: number, cout: number, bias = false): void {
    this.params.add(`${key}/w`, [k, k, cin, cout], heNormal(this.rng, k * k * cin * cout, k * k * cout));
    if (bias) this.params.add(`${key}/b`, [cout], filled(cout, 0));
  }

  private bn(key: string, c: number): void {
    this.params.add(`${key}/gamma`, [c], filled(c, 1));
    this.params.add(`${key}/beta`, [c], filled(c, 0));
    this.params.add(`${key}/mean`, [c], filled(c, 0), false);
    this.params.add(`${key}/var`, [c], filled(c, 1), false);
  }

  private dense(key: string, cin: number, cout: number): void {
    const limit = 1 / Math.sqrt(cin);
    this.params.add(`${key}/w`, [cin, cout], uniformInit(this.rng, cin * cout, limit));
    this.params.add(`${key}/b`, [cout], uniformInit(this.rng, cout, limit));
  }

  private build(): void {
    const c = this.config;
    this.conv('stem/conv', c.stem.kernel, 3, c.stem.width);
    this.bn('stem/bn', c.stem.width);
    let cin = c.stem.width;
    const sizes = stageSizes(c);
    for (let s = 0; s < 4; s++) {
      const cout = c.widths[s]!;
      for (let b = 0; b < c.blocksPerStage[s]!; b++) {
        const key = `s${s}.b${b}`;
        const stride = s > 0 && b === 0 ? 2 : 1;
        this.conv(`${key}/conv1`, 3, cin, cout);
        this.bn(`${key}/bn1`, cout);
        if (this.usesMhsa(s)) this.mhsaParams(`${key}/mhsa`, cout, sizes[s]!);
        else this.conv(`${key}/conv2`, 3, cout, cout);
        this.bn(`${key}/bn2`, cout);
        if (c.cbam.enabled) this.cbamParams(`${key}/cbam`, cout);
        if (stride !== 1 || cin !== cout) {
          this.conv(`${key}/down`, 1, cin, cout);
          this.bn(`${key}/down_bn`, cout);
        }
        cin = cout;
      }
    }
    this.dense('head/fc', cin, c.numClasses);
  }

  private usesMhsa(stage: number): boolean {
    return this.config.mhsa.enabled && this.config.mhsa.stages.includes(stage);
  }

  private cbamParams(key: string, ch: number): void {
    const hidden = Math.max(this.config.cbam.minHidden, Math.floor(ch / this.config.cbam.reduction));
    this.dense(`${key}/fc1`, ch, hidden);
    this.dense(`${key}/fc2`, hidden, ch);
    const k = this.config.cbam.spatialKernel;
    this.conv(`${key}/spatial`, k, 2, 1, true);
  }

  private mhsaParams(key: string, ch: number, size: number): void {
    const heads = this.config.mhsa.heads;
    const d = ch / heads;
    this.params.add(`${key}/qkv/w`, [ch, 3 * ch], uniformInit(this.rng, ch * 3 * ch, Math.sqrt(3 / ch)));
    this.params.add(`${key}/qkv/b`, [3 * ch], filled(3 * ch, 0));
    // Factorised 2D position embeddings as drawn in BoTNet's Fig. 4 (R_h + R_w, one vector per row
    // and per column): a logit depends on where the key sits, not on the query-key offset, unlike
    // the relative logits of BoTNet's reference code.
    const pos = (n: number) => Float32Array.from({ length: n }, () => this.rng.normal() * 0.02);
    this.params.add(`${key}/rel_h`, [heads, size, 1, d], pos(heads * size * d));
    this.params.add(`${key}/rel_w`, [heads, 1, size, d], pos(heads * size * d));
  }

  /** Re-initialises the classifier for a new label set (transfer learning). */
  replaceHead(numClasses: number, seed: number): void {
    const cin = this.config.widths[3];
    this.params.remove('head/fc/w');
    this.params.remove('head/fc/b');
    const rng = new Rng(deriveSeed(seed, 'head'));
    const limit = 1 / Math.sqrt(cin);
    this.params.add('head/fc/w', [cin, numClasses], uniformInit(rng, cin * numClasses, limit));
    this.params.add('head/fc/b', [numClasses], uniformInit(rng, numClasses, limit));
    (this.config as { numClasses: number }).numClasses = numClasses;
  }

  // ---- forward -------------------------------------------------------------------

  private p(key: string): tf.Tensor {
    return this.params.get(key);
  }

  private applyConv(x: tf.Tensor4D, key: string, stride: number, bias = false): tf.Tensor4D {
    const y = tf.conv2d(x, this.p(`${key}/w`) as tf.Tensor4D, stride, 'same');
    return bias ? tf.add(y, this.p(`${key}/b`)) : y;
  }

  private applyBn(x: tf.Tensor4D, key: string, ctx: ForwardContext): tf.Tensor4D {
    const gamma = this.p(`${key}/gamma`) as tf.Tensor1D;
    const beta = this.p(`${key}/beta`) as tf.Tensor1D;
    if (!ctx.training) {
      return tf.batchNorm(x, this.p(`${key}/mean`) as tf.Tensor1D, this.p(`${key}/var`) as tf.Tensor1D, beta, gamma, EPS);
    }
    const { y, mean, variance } = batchNormTraining(x, gamma, beta, EPS);
    if (ctx.bnUpdates) {
      const m = this.config.bnMomentum;
      const n = x.size / x.shape[3];
      const runMean = this.params.get(`${key}/mean`);
      const runVar = this.params.get(`${key}/var`);
      // Unbiased variance for the running estimate, as PyTorch does.
      ctx.bnUpdates.push({ variable: runMean, value: tf.keep(tf.tidy(() => tf.add(tf.mul(runMean, m), tf.mul(mean, 1 - m)))) });
      ctx.bnUpdates.push({
        variable: runVar,
        value: tf.keep(tf.tidy(() => tf.add(tf.mul(runVar, m), tf.mul(variance, ((1 - m) * n) / Math.max(1, n - 1))))),
      });
    }
    return y;
  }

  private applyDense(x: tf.Tensor2D, key: string): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.p(`${key}/w`) as tf.Tensor2D), this.p(`${key}/b`));
  }

  private applyCbam(x: tf.Tensor4D, key: string): tf.Tensor4D {
    // Channel attention: the shared MLP runs once on avg- and max-pooled descriptors stacked.
    const mlp = this.applyDense(tf.relu(this.applyDense(spatialAvgMax(x), `${key}/fc1`)), `${key}/fc2`);
    const [a, m] = tf.split(mlp, 2, 0);
    const channel = tf.sigmoid(tf.add(a!, m!)) as tf.Tensor2D;
    // Spatial attention over the channel-gated features' average and max maps.
    const spatial = tf.sigmoid(this.applyConv(gatedChannelAvgMax(x, channel), `${key}/spatial`, 1, true));
    return gateApply(x, channel, spatial);
  }

  private applyMhsa(x: tf.Tensor4D, key: string): tf.Tensor4D {
    const [b, h, w, ch] = x.shape;
    const heads = this.config.mhsa.heads;
    const d = ch / heads;
    const n = h * w;
    const qkv = tf.add(tf.matMul(tf.reshape(x, [b * n, ch]), this.p(`${key}/qkv/w`) as tf.Tensor2D), this.p(`${key}/qkv/b`));
    const toHeads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [b, n, heads, d]), [0, 2, 1, 3]);
    const [q, k, v] = tf.split(qkv, 3, 1).map(toHeads) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    // q·k + q·r = q·(k + r): content and position logits in one product.
    const pos = tf.reshape(tf.add(this.p(`${key}/rel_h`), this.p(`${key}/rel_w`)), [1, heads, n, d]);
    const logits = tf.mul(tf.matMul(q, tf.add(k, pos), false, true), 1 / Math.sqrt(d));
    const att = tf.softmax(logits);
    const out = tf.matMul(att, v);
    return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, h, w, ch]);
  }

  /** Backbone: normalised NHWC images -> last-stage feature map. */
  features(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const c = this.config;
    let y = tf.relu(this.applyBn(this.applyConv(x, 'stem/conv', c.stem.stride), 'stem/bn', ctx));
    if (c.stem.maxPool) y = tf.maxPool(y, 3, 2, 'same');
    for (let s = 0; s < 4; s++) {
      for (let bIdx = 0; bIdx < c.blocksPerStage[s]!; bIdx++) {
        const key = `s${s}.b${bIdx}`;
        const stride = s > 0 && bIdx === 0 ? 2 : 1;
        let r = tf.relu(this.applyBn(this.applyConv(y, `${key}/conv1`, stride), `${key}/bn1`, ctx));
        r = this.usesMhsa(s) ? this.applyMhsa(r, `${key}/mhsa`) : this.applyConv(r, `${key}/conv2`, 1);
        r = this.applyBn(r, `${key}/bn2`, ctx);
        if (c.cbam.enabled) r = this.applyCbam(r, `${key}/cbam`);
        const shortcut = this.params.has(`${key}/down/w`) ? this.applyBn(this.applyConv(y, `${key}/down`, stride), `${key}/down_bn`, ctx) : y;
        y = tf.relu(tf.add(r, shortcut)) as tf.Tensor4D;
      }
    }
    return y;
  }

  /** Head: feature map -> logits. Separate so Grad-CAM can differentiate w.r.t. features. */
  head(features: tf.Tensor4D): tf.Tensor2D {
    return this.applyDense(tf.mean(features, [1, 2]) as tf.Tensor2D, 'head/fc');
  }

  logits(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D {
    return this.head(this.features(x, ctx));
  }

  dispose(): void {
    this.params.dispose();
  }
}
