// Starts a worker as a real child process (tests kill it, run two at once...).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export interface SpawnedWorker {
  child: ChildProcess;
  /** Everything it printed so far (stdout + stderr), for assertions and failure messages. */
  output(): string;
  /** Resolves when a printed line matches; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<string>;
  /** SIGTERM (graceful) or SIGKILL, then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnWorker(
  script: string | URL,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): SpawnedWorker {
  const path = script instanceof URL ? fileURLToPath(script) : script;
  const child = spawn(process.execPath, ["--import", "tsx", path, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const check of waiters) check();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = once(child, "exit");
  return {
    child,
    output: () => text,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = text.split("\n").find((l) => pattern.test(l));
          if (line !== undefined) {
            waiters.delete(check);
            resolve(line);
          }
        };
        waiters.add(check);
        check();
        void exited.then(() => {
          if (waiters.delete(check)) reject(new Error(`worker exited before printing ${pattern}:\n${text}`));
        });
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        await exited;
      }
    },
  };
}
