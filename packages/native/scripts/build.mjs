#!/usr/bin/env node
// Builds the rcmnet_native addon (C++ in ../csrc, linked against oneDNN) with
// the system g++ and Node's own headers; no node-gyp download, no network.
//
// Used two ways:
//  - as the package's npm `install` script (`node scripts/build.mjs --from-install`):
//    it never fails the install; a machine without libdnnl-dev just gets no addon
//    and the platform falls back to the wasm backend;
//  - imported by src/loadAddon.ts, which builds lazily on first use when the
//    install step was skipped (npm can skip install scripts) or sources changed.
// The output name carries a hash of sources, flags, Node ABI and CPU model, so a
// stale or foreign binary is never loaded.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, mkdtempSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const sourceDir = join(packageDir, 'csrc');
export const buildDir = join(packageDir, 'build');

const CXXFLAGS = ['-std=c++17', '-O3', '-march=native', '-fPIC', '-fopenmp', '-fvisibility=hidden', '-DNODE_GYP_MODULE_NAME=rcmnet_native'];
const LDFLAGS = ['-shared', '-fopenmp', '-ldnnl'];

function nodeIncludeDir() {
  const candidates = [
    join(dirname(dirname(process.execPath)), 'include', 'node'),
    join(process.env.HOME ?? '', '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
    '/usr/include/node',
  ];
  const found = candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
  if (!found) throw new Error(`Node's addon headers (node_api.h) not found in ${candidates.join(', ')}`);
  return found;
}

function sources() {
  return readdirSync(sourceDir).filter((f) => /\.(cc|h)$/.test(f)).sort();
}

/** Path the addon for the current sources and machine would have. */
export function addonPath() {
  const h = createHash('sha256');
  for (const f of sources()) h.update(f).update(readFileSync(join(sourceDir, f)));
  h.update(CXXFLAGS.join(' ')).update(LDFLAGS.join(' '));
  h.update(process.versions.modules).update(process.arch).update(cpus()[0]?.model ?? '');
  return join(buildDir, `rcmnet_native-${h.digest('hex').slice(0, 16)}.node`);
}

/** Why the addon cannot be built here (a missing system dependency), or null. Instant: no compiler run. */
export function missingPrerequisite() {
  if (process.platform !== 'linux') return `the native backend is built for Linux only (this is ${process.platform})`;
  if (!existsSync('/usr/include/oneapi/dnnl/dnnl.hpp') && !existsSync('/usr/local/include/oneapi/dnnl/dnnl.hpp'))
    return 'oneDNN headers not found: install the system package libdnnl-dev (Debian/Ubuntu: apt-get install -y libdnnl-dev)';
  return null;
}

/** Builds the addon unless it is already there; returns its path. Throws with the compiler's message on failure. */
export async function buildAddon() {
  const target = addonPath();
  if (existsSync(target)) return target;
  const missing = missingPrerequisite();
  if (missing) throw new Error(missing);
  mkdirSync(buildDir, { recursive: true });
  // Each build works in its own temp dir and renames at the end, so two
  // processes building at once (parallel test workers) cannot see a half file.
  const work = mkdtempSync(join(buildDir, 'tmp-'));
  try {
    const include = nodeIncludeDir();
    const units = sources().filter((f) => f.endsWith('.cc'));
    const objects = [];
    // g++ per translation unit, two at a time (the machines have 2 cores).
    const queue = [...units];
    const worker = async () => {
      for (let unit = queue.shift(); unit; unit = queue.shift()) {
        const obj = join(work, unit.replace(/\.cc$/, '.o'));
        await run('g++', [...CXXFLAGS, `-I${include}`, '-c', join(sourceDir, unit), '-o', obj], { maxBuffer: 1 << 24 });
        objects.push(obj);
      }
    };
    await Promise.all([worker(), worker()]);
    const out = join(work, 'addon.node');
    await run('g++', [...objects, ...LDFLAGS, '-o', out], { maxBuffer: 1 << 24 });
    renameSync(out, target);
    // Older builds (other source versions) are dead weight; unlinking a loaded .so is safe on Linux.
    for (const f of readdirSync(buildDir))
      if (/^rcmnet_native-.*\.node$/.test(f) && join(buildDir, f) !== target) rmSync(join(buildDir, f), { force: true });
    return target;
  } catch (err) {
    const e = /** @type {{stderr?: string, message: string}} */ (err);
    throw new Error(`building the native addon failed: ${(e.stderr || e.message).trim().split('\n').slice(0, 20).join('\n')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fromInstall = process.argv.includes('--from-install');
  const started = Date.now();
  buildAddon().then(
    (path) => console.log(`@rcmnet/native: addon ready at ${path} (${((Date.now() - started) / 1000).toFixed(1)} s)`),
    (err) => {
      console.warn(`@rcmnet/native: ${err.message}`);
      // An install must not fail because the optional fast path is unavailable.
      process.exitCode = fromInstall ? 0 : 1;
    },
  );
}
