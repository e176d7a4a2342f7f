/**
 * Test helper: node:fs/promises with file-system faults a test cannot set up for real when it runs
 * as root (where chmod does not stop writes) and without mounting anything. A test file installs it
 * with
 *   vi.mock('node:fs/promises', async (original) => (await import('./testingFs.js')).withFaults(await original()));
 * and sets `faults`. It imports nothing from node:fs so that the mock does not import itself.
 */
import path from 'node:path';
import type * as Fs from 'node:fs/promises';

export const faults = {
  /** A folder on a read-only file system: every write under it fails with EROFS. */
  readOnly: '',
  /**
   * A mount point (a Docker volume) in a read-only parent folder: writes in the parent beside it
   * fail with EACCES, and a rename across its boundary with EXDEV.
   */
  mountPoint: '',
};

const under = (p: string, root: string) => root !== '' && (p === root || p.startsWith(root + path.sep));

function fault(code: string, syscall: string, p: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, ${syscall} '${p}'`), { code, syscall, path: p });
}

/** The error a write to `p` would get, if any. */
function writeFault(p: string, syscall: string): NodeJS.ErrnoException | null {
  const abs = path.resolve(p);
  if (under(abs, faults.readOnly)) return fault('EROFS', syscall, abs);
  const mount = faults.mountPoint;
  if (mount && under(abs, path.dirname(mount)) && !under(abs, mount)) return fault('EACCES', syscall, abs);
  return null;
}

export function withFaults(fs: typeof Fs): typeof Fs {
  const exists = (p: string) => fs.stat(p).then(() => true, () => false);
  const mkdir: typeof fs.mkdir = (async (p: string, options?: Parameters<typeof fs.mkdir>[1]) => {
    // mkdir of a folder that exists answers as it would anywhere (nothing is written).
    const e = writeFault(p, 'mkdir');
    if (e && !(await exists(p))) throw e;
    return fs.mkdir(p, options);
  }) as typeof fs.mkdir;
  const writeFile: typeof fs.writeFile = async (p, ...rest) => {
    const e = writeFault(String(p), 'open');
    if (e) throw e;
    return fs.writeFile(p, ...rest);
  };
  const appendFile: typeof fs.appendFile = async (p, ...rest) => {
    const e = writeFault(String(p), 'open');
    if (e) throw e;
    return fs.appendFile(p, ...rest);
  };
  const rm: typeof fs.rm = async (p, options) => {
    const e = writeFault(String(p), 'rm');
    if (e && (await exists(String(p)))) throw e;
    return fs.rm(p, options);
  };
  const rename: typeof fs.rename = async (from, to) => {
    const e = writeFault(String(from), 'rename') ?? writeFault(String(to), 'rename');
    if (e) throw e;
    const mount = faults.mountPoint;
    if (mount && under(path.resolve(String(from)), mount) !== under(path.resolve(String(to)), mount)) throw fault('EXDEV', 'rename', String(from));
    return fs.rename(from, to);
  };
  const wrapped = { mkdir, writeFile, appendFile, rm, rename };
  return { ...fs, ...wrapped, default: { ...fs, ...wrapped } } as typeof Fs;
}
