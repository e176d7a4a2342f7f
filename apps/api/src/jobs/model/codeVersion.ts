// The code a training run ran, for its reproducibility record: the recipe's defaults (optimizer,
// weight decay, augmentation, schedules) live in @rcmnet/model's source, so a run's config and
// seed do not reproduce it without the code they ran with.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

export interface CodeVersion {
  /** @rcmnet/model's package.json version ("unknown" when unreadable). */
  modelPackage: string;
  /** `git rev-parse HEAD` of the checkout the code runs from; "unknown" outside a git checkout. */
  commit: string;
  /** Tracked files differed from `commit` (null: not known). */
  dirty: boolean | null;
}

const run = promisify(execFile);

/**
 * Read once per process, when the worker builds its handlers: a checkout moved on (git pull)
 * without a restart must not be credited to code this process never loaded. Never throws: a
 * missing git or a deployment without .git records "unknown" rather than failing a run.
 */
export async function readCodeVersion(
  /** RCMNET_BUILD_COMMIT: the commit a deployment without .git (a container image) was built from. */
  buildCommit?: string,
  /** Where to ask git (tests); default: the @rcmnet/model package's folder. */
  gitDir?: string,
): Promise<CodeVersion> {
  let modelPackage = "unknown";
  let dir = process.cwd();
  try {
    // The package's entry is <package>/src/index.ts (its exports map has no ./package.json).
    const root = dirname(dirname(createRequire(import.meta.url).resolve("@rcmnet/model")));
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { name?: unknown; version?: unknown };
    if (pkg.name === "@rcmnet/model" && typeof pkg.version === "string") modelPackage = pkg.version;
    dir = root;
  } catch {
    // Keep "unknown".
  }
  let commit = buildCommit ?? "unknown";
  let dirty: boolean | null = null;
  if (gitDir) dir = gitDir;
  try {
    const head = (await run("git", ["rev-parse", "HEAD"], { cwd: dir, timeout: 5_000 })).stdout.trim();
    if (/^[0-9a-f]{40,64}$/.test(head)) commit = head;
    const status = await run("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: dir, timeout: 10_000 });
    dirty = status.stdout.trim().length > 0;
  } catch {
    // Not a git checkout, or no git: the build's commit if it was given, else "unknown".
  }
  return { modelPackage, commit, dirty };
}
