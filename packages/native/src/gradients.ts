// Faster gradients for Sum, Mean and Relu on the native backend.
//
// tfjs's own gradients for these build a full-size `tf.ones(x.shape)` in JS and
// multiply by it: for the batch-norm statistics of a 128 px training step that
// JS fill was 1.25 s of CPU per 5 steps (node --cpu-prof, makeOnesTypedArray).
// Broadcasting dy instead gives bit-identical results (x * 1 is exact), one
// native Tile. Relu's gradient, dy * step(x), becomes one pass (RELU_GRAD) instead
// of two and a temporary. The wrapper only takes the new path while the native
// backend is active; every other backend keeps tfjs's original gradient.
import * as tf from '@tensorflow/tfjs-core';

function expandedShape(shape: number[], axes: number[]): number[] {
  const expanded = shape.slice();
  for (const a of axes) expanded[a] = 1;
  return expanded;
}

/** Kernel for Relu's gradient: dy where x > 0, else 0 (native backend only). */
export const RELU_GRAD = 'RcmnetReluGrad';

const installed = new Set<string>();

export function installFastGradients(backendName: string): void {
  if (installed.has(backendName)) return;
  for (const kernelName of [tf.Sum, tf.Mean]) {
    const original = tf.getGradient(kernelName);
    // Gradients come with the '@tensorflow/tfjs' bundle; without it there is no training to speed up.
    if (!original) continue;
    tf.registerGradient({
      ...original,
      gradFunc: (dy, saved, attrs) => {
        if (tf.getBackend() !== backendName) return original.gradFunc(dy, saved, attrs);
        const [x] = saved as tf.Tensor[];
        const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x!.shape);
        const dyTensor = dy as tf.Tensor;
        return {
          x: () => {
            let d = tf.reshape(dyTensor, expandedShape(x!.shape, axes));
            if (kernelName === tf.Mean) {
              const reduceSize = tf.util.sizeFromShape(tf.backend_util.computeOutAndReduceShapes(x!.shape, axes)[1]);
              d = tf.div(d, reduceSize);
            }
            return tf.broadcastTo(d, x!.shape);
          },
        };
      },
    });
  }
  const relu = tf.getGradient(tf.Relu);
  if (relu)
    tf.registerGradient({
      ...relu,
      gradFunc: (dy, saved, attrs) => {
        if (tf.getBackend() !== backendName || (dy as tf.Tensor).dtype !== 'float32') return relu.gradFunc(dy, saved, attrs);
        const [x] = saved as tf.Tensor[];
        return { x: () => (tf.engine().runKernel(RELU_GRAD, { dy: dy as tf.Tensor, x: x! }) as unknown as tf.Tensor[])[0]! };
      },
    });
  installed.add(backendName);
}
