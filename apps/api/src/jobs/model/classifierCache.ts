// Loaded classifiers per model version, kept for the worker's lifetime: loading costs seconds,
// and a worker predicts with the same champion for many slides. The weights are re-hashed on
// load, so a model directory changed on disk after registration is refused, not used.
import { isAbsolute, join } from "node:path";
import type { ModelVersion } from "@rcmnet/db";
import { DEFAULT_ABSTAIN_THRESHOLD, type CellClassifier, type ModelRuntime } from "./runtime.ts";

export interface LoadedClassifier {
  modelVersionId: string;
  model: CellClassifier;
  abstainThreshold: number;
}

/** Model directories are stored relative to `<dataDir>/models` when they live there. */
export function resolveModelDir(dataDir: string, artifactPath: string): string {
  return isAbsolute(artifactPath) ? artifactPath : join(dataDir, "models", artifactPath);
}

export class ClassifierCache {
  private readonly loaded = new Map<string, Promise<LoadedClassifier>>();

  constructor(
    private readonly runtime: ModelRuntime,
    private readonly dataDir: string,
    /** Few versions are live at once (champion, a candidate under evaluation). */
    private readonly capacity = 3,
  ) {}

  get(
    version: Pick<ModelVersion, "id" | "artifactPath" | "artifactSha256" | "metrics">,
  ): Promise<LoadedClassifier> {
    let entry = this.loaded.get(version.id);
    if (!entry) {
      entry = this.load(version);
      entry.catch(() => this.loaded.delete(version.id));
      this.loaded.set(version.id, entry);
      this.evict();
    }
    return entry;
  }

  private async load(
    version: Pick<ModelVersion, "id" | "artifactPath" | "artifactSha256" | "metrics">,
  ): Promise<LoadedClassifier> {
    const dir = resolveModelDir(this.dataDir, version.artifactPath);
    const info = await this.runtime.inspectModelDir(dir);
    if (info.weightsSha256 !== version.artifactSha256) {
      throw new Error(
        `model version ${version.id}: weights on disk hash to ${info.weightsSha256}, registered ${version.artifactSha256}`,
      );
    }
    const model = await this.runtime.loadClassifier(dir);
    return {
      modelVersionId: version.id,
      model,
      abstainThreshold: info.abstainThreshold ?? DEFAULT_ABSTAIN_THRESHOLD,
    };
  }

  private evict(): void {
    while (this.loaded.size > this.capacity) {
      const [oldest, entry] = this.loaded.entries().next().value as [string, Promise<LoadedClassifier>];
      this.loaded.delete(oldest);
      void entry.then(
        (c) => c.model.dispose(),
        () => undefined,
      );
    }
  }

  dispose(): void {
    for (const entry of this.loaded.values())
      void entry.then(
        (c) => c.model.dispose(),
        () => undefined,
      );
    this.loaded.clear();
  }
}
