// Which architectures there are and which widths build them. Its own module, free of TensorFlow,
// so that the API can refuse a training run's width before queueing it without loading a backend
// (@rcmnet/model/widthRule), by the rule the trainer applies.

export const ARCHITECTURES = ['resnet18', 'resnet18-cbam', 'resnet18-mhsa', 'rcmnet'] as const;
export type ArchName = (typeof ARCHITECTURES)[number];

/** The architectures with multi-head self-attention in the last stage. */
export function hasMhsa(arch: ArchName): boolean {
  return arch === 'rcmnet' || arch === 'resnet18-mhsa';
}

/** A stage's width scaled by the width multiplier, at least 8 channels. */
export const scaledWidth = (c: number, m: number) => Math.max(8, Math.round(c * m));

/**
 * Why `widthMultiplier` cannot build `arch` (the last stage's width must split evenly over the
 * attention heads), or null. Only architectures with MHSA have heads: a ResNet18 takes any width.
 */
export function widthProblem(arch: ArchName, widthMultiplier = 1, heads = 4): string | null {
  if (!hasMhsa(arch)) return null;
  const last = scaledWidth(512, widthMultiplier);
  if (last % heads === 0) return null;
  return `${widthMultiplier} gives ${arch} a last-stage width of ${last} (512 x ${widthMultiplier}, rounded), not divisible by its ${heads} attention heads: choose one where 512 x width rounds to a multiple of ${heads} (e.g. 0.25, 0.5, 0.75)`;
}
