/**
 * Runtime backend selection, done once at the edge (never inside layers).
 *
 * Order: tfjs-node-gpu, tfjs-node (optional dependencies; their install downloads
 * libtensorflow, so on most machines `import` fails with MODULE_NOT_FOUND and they are
 * skipped), `@rcmnet/native` (oneDNN kernels, built by packages/native; imported
 * dynamically so this package works without it), wasm with our training kernels, cpu.
 * `RCMNET_BACKEND` or the `backend` option forces one.
 */
import { tf } from './tf.js';
import { registerWasmTrainingKernels } from './wasmTrainingKernels.js';

export const BACKEND_ORDER = ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number] | (string & {});

export interface BackendOptions {
  /** Force a backend; defaults to `process.env.RCMNET_BACKEND`, then the order above. */
  backend?: string;
  /** Silence the one-line log (tests). */
  quiet?: boolean;
}

// Dynamic specifiers kept in variables so TypeScript does not require the optional
// packages to be installed.
const optionalModules: Record<string, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

async function tryOptional(specifier: string): Promise<boolean> {
  try {
    await import(specifier);
    return true;
  } catch {
    return false;
  }
}

async function activate(name: string): Promise<string | null> {
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    if (!(await tryOptional(optionalModules[name]!))) return null;
    // tfjs-node registers itself as 'tensorflow' (also for the GPU build).
    return (await tf.setBackend('tensorflow')) ? 'tensorflow' : null;
  }
  if (name === 'native') {
    try {
      const nativeSpecifier = '@rcmnet/native';
      const mod = (await import(nativeSpecifier)) as { registerNativeBackend?: () => Promise<string | null> };
      const registered = mod.registerNativeBackend ? await mod.registerNativeBackend() : null;
      if (registered && (await tf.setBackend(registered))) return registered;
    } catch {
      // Package absent or addon unbuildable: fall through to wasm.
    }
    return null;
  }
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    return (await tf.setBackend('wasm')) ? 'wasm' : null;
  }
  if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    return (await tf.setBackend('cpu')) ? 'cpu' : null;
  }
  // Any other registered backend name (e.g. one a plugin registered).
  return tf.findBackendFactory(name) && (await tf.setBackend(name)) ? name : null;
}

/**
 * A backend name `initBackend` knows: one of BACKEND_ORDER or one registered with tfjs (a plugin's).
 * Whether it is installed and starts here is another matter.
 */
export function isKnownBackend(name: string): boolean {
  return (BACKEND_ORDER as readonly string[]).includes(name) || tf.findBackendFactory(name) !== null;
}

/** A forced backend (option or RCMNET_BACKEND) that is not installed here or did not start. */
export class BackendUnavailableError extends Error {
  constructor(readonly backend: string, message: string) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

let chosen: string | null = null;
let pending: Promise<string> | null = null;

/**
 * Chooses and activates the backend. Idempotent: later calls return the first choice
 * unless a different backend is forced explicitly.
 */
export async function initBackend(options: BackendOptions = {}): Promise<string> {
  const forced = options.backend ?? process.env['RCMNET_BACKEND'] ?? undefined;
  if (chosen && (!forced || forced === chosen)) return chosen;
  if (pending && !forced) return pending;
  pending = (async () => {
    silenceTfjsNodeHint();
    const candidates = forced ? [forced] : [...BACKEND_ORDER];
    for (const name of candidates) {
      const got = await activate(name);
      if (got) {
        await tf.ready();
        if (chosen !== got && !options.quiet) process.stderr.write(`rcmnet: tensorflow.js backend "${got}"\n`);
        chosen = got;
        return got;
      }
    }
    if (forced) throw new BackendUnavailableError(forced, `Backend "${forced}" (from ${options.backend ? 'the backend option' : 'RCMNET_BACKEND'}) is not available; known: ${BACKEND_ORDER.join(', ')}`);
    throw new Error('No tensorflow.js backend could be initialised');
  })();
  try {
    return await pending;
  } finally {
    pending = null;
  }
}

/** The backend in use, for model cards and run records. */
export function currentBackend(): string {
  return chosen ?? tf.getBackend();
}

/**
 * The cpu backend prints a banner recommending tfjs-node (which cannot install here);
 * production mode silences it and skips debug-only checks. (IS_TEST would also silence
 * it but turns on a per-kernel leak check that slows every op.)
 */
function silenceTfjsNodeHint(): void {
  tf.enableProdMode();
}
