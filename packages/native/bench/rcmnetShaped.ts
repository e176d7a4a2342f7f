// An RCMNet-shaped network in plain tfjs ops (the same layer list as
// ../../../../shared/bench/torch_rcmnet.py: ResNet18 + CBAM per stage + MHSA),
// used to profile and benchmark the native backend independently of the model
// package, with the platform's training ops: batch norm with batch statistics
// and the Adam step are @rcmnet/model's fused ops (one kernel each on native).
import * as tf from '@tensorflow/tfjs';
import { batchNormTraining, gateApply, gatedChannelAvgMax, Optimizer, spatialAvgMax } from '@rcmnet/model';

type Params = Map<string, tf.Variable>;

export class RcmnetShaped {
  readonly params: Params = new Map();
  private readonly stats = new Map<string, tf.Tensor>();
  /** Batch statistics (training) or running statistics (inference), as PyTorch's train()/eval(). */
  training = true;
  private readonly f: number;

  constructor(readonly size: number, readonly classes = 8) {
    this.f = Math.floor(size / 32);
    this.conv('stem', 7, 3, 64);
    this.bn('stem.bn', 64);
    let c = 64;
    for (const [i, [o, st]] of ([[64, 1], [128, 2], [256, 2], [512, 2]] as const).entries()) {
      this.block(`l${i}.0`, c, o, st);
      this.block(`l${i}.1`, o, o, 1);
      this.cbam(`l${i}.cbam`, o);
      c = o;
    }
    this.conv('mhsa.qkv', 1, 512, 1536, true);
    const d = 512 / 4;
    this.var('mhsa.relH', tf.randomNormal([4, this.f, 1, d], 0, 0.02));
    this.var('mhsa.relW', tf.randomNormal([4, 1, this.f, d], 0, 0.02));
    this.bn('mhsa.bn', 512);
    this.var('fc.w', tf.randomNormal([512, classes], 0, Math.sqrt(1 / 512)));
    this.var('fc.b', tf.zeros([classes]));
  }

  private var(name: string, init: tf.Tensor): void {
    this.params.set(name, tf.variable(init, true, name));
  }
  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }
  private conv(name: string, k: number, i: number, o: number, bias = false): void {
    this.var(`${name}.w`, tf.randomNormal([k, k, i, o], 0, Math.sqrt(2 / (k * k * i))));
    if (bias) this.var(`${name}.b`, tf.zeros([o]));
  }
  private bn(name: string, c: number): void {
    this.var(`${name}.g`, tf.ones([c]));
    this.var(`${name}.b`, tf.zeros([c]));
    // Running statistics for inference (not trained, like PyTorch's buffers).
    this.stats.set(`${name}.mean`, tf.zeros([c]));
    this.stats.set(`${name}.var`, tf.ones([c]));
  }
  private block(name: string, i: number, o: number, st: number): void {
    this.conv(`${name}.c1`, 3, i, o);
    this.bn(`${name}.b1`, o);
    this.conv(`${name}.c2`, 3, o, o);
    this.bn(`${name}.b2`, o);
    if (st !== 1 || i !== o) {
      this.conv(`${name}.sc`, 1, i, o);
      this.bn(`${name}.sbn`, o);
    }
  }
  private cbam(name: string, c: number): void {
    const h = Math.max(1, c / 16);
    this.var(`${name}.w1`, tf.randomNormal([c, h], 0, Math.sqrt(2 / c)));
    this.var(`${name}.b1`, tf.zeros([h]));
    this.var(`${name}.w2`, tf.randomNormal([h, c], 0, Math.sqrt(1 / h)));
    this.var(`${name}.b2`, tf.zeros([c]));
    this.conv(`${name}.sa`, 7, 2, 1, true);
  }

  private batchNorm(name: string, x: tf.Tensor4D): tf.Tensor4D {
    if (!this.training)
      return tf.batchNorm(x, this.stats.get(`${name}.mean`)!, this.stats.get(`${name}.var`)!, this.p(`${name}.b`), this.p(`${name}.g`), 1e-3) as tf.Tensor4D;
    return batchNormTraining(x, this.p(`${name}.g`) as tf.Tensor1D, this.p(`${name}.b`) as tf.Tensor1D, 1e-3).y;
  }
  private convBn(name: string, x: tf.Tensor4D, bnName: string, stride: number): tf.Tensor4D {
    return this.batchNorm(bnName, tf.conv2d(x, this.p(`${name}.w`) as tf.Tensor4D, stride, 'same'));
  }
  private runBlock(name: string, x: tf.Tensor4D, st: number): tf.Tensor4D {
    const y = tf.relu(this.convBn(`${name}.c1`, x, `${name}.b1`, st));
    const z = this.convBn(`${name}.c2`, y, `${name}.b2`, 1);
    const sc = this.params.has(`${name}.sc.w`) ? this.convBn(`${name}.sc`, x, `${name}.sbn`, st) : x;
    return tf.relu(tf.add(z, sc)) as tf.Tensor4D;
  }
  // The platform's CBAM ops (@rcmnet/model fusedOps.ts): the MLP runs once on the
  // stacked avg- and max-pooled descriptors, as mlp(avg) + mlp(max) in the peer.
  private runCbam(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const hidden = tf.relu(tf.add(tf.matMul(spatialAvgMax(x), this.p(`${name}.w1`) as tf.Tensor2D), this.p(`${name}.b1`))) as tf.Tensor2D;
    const [avg, max] = tf.split(tf.add(tf.matMul(hidden, this.p(`${name}.w2`) as tf.Tensor2D), this.p(`${name}.b2`)), 2, 0);
    const ca = tf.sigmoid(tf.add(avg!, max!)) as tf.Tensor2D;
    const sa = tf.sigmoid(tf.add(tf.conv2d(gatedChannelAvgMax(x, ca), this.p(`${name}.sa.w`) as tf.Tensor4D, 1, 'same'), this.p(`${name}.sa.b`)));
    return gateApply(x, ca, sa as tf.Tensor4D);
  }
  private runMhsa(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const heads = 4, d = c / heads, n = h * w;
    const qkv = tf.add(tf.conv2d(x, this.p('mhsa.qkv.w') as tf.Tensor4D, 1, 'same'), this.p('mhsa.qkv.b'));
    // [b, n, 3, heads, d] -> [3, b, heads, n, d]
    const t = tf.transpose(tf.reshape(qkv, [b, n, 3, heads, d]), [2, 0, 3, 1, 4]);
    const [q, k, v] = tf.unstack(t) as tf.Tensor4D[];
    const pos = tf.reshape(tf.add(this.p('mhsa.relH'), this.p('mhsa.relW')), [1, heads, n, d]);
    const logits = tf.add(tf.matMul(q!, k!, false, true), tf.matMul(q!, tf.tile(pos, [b, 1, 1, 1]) as tf.Tensor4D, false, true));
    const att = tf.softmax(tf.div(logits, Math.sqrt(d)));
    const out = tf.matMul(att, v!); // [b, heads, n, d]
    return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, h, w, c]);
  }

  forward(x: tf.Tensor4D): tf.Tensor2D {
    let y = tf.relu(this.convBn('stem', x, 'stem.bn', 2));
    y = tf.maxPool(y, 3, 2, 'same');
    for (const [i, st] of [1, 2, 2, 2].entries()) {
      y = this.runBlock(`l${i}.0`, y, st);
      y = this.runBlock(`l${i}.1`, y, 1);
      y = this.runCbam(`l${i}.cbam`, y);
    }
    y = tf.relu(tf.add(this.batchNorm('mhsa.bn', this.runMhsa(y)), y)) as tf.Tensor4D;
    const pooled = tf.mean(y, [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, this.p('fc.w') as tf.Tensor2D), this.p('fc.b'));
  }

  paramCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }
}

/** One training step as the platform takes it: softmax cross-entropy, gradients, the model package's Adam. */
export function trainStep(net: RcmnetShaped, optimizer: Optimizer, x: tf.Tensor4D, y: tf.Tensor2D, lr = 1e-3): void {
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, net.forward(x)) as tf.Scalar, [...net.params.values()]);
  const byKey = new Map([...net.params].map(([k, v]) => [k, grads[v.name]!]));
  optimizer.apply(byKey, net.params, lr);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
}
