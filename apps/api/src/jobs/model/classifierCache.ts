// Loaded classifiers per model version, kept for the worker's lifetime: loading costs seconds,
// and a worker predicts with the same champion for many slides. The directory is re-hashed on
// load, so a model changed on disk after registration is refused, not used.
import { isAbsolute, join } from "node:path";
import type { ModelVersion } from "@rcmnet/db";
import { DEFAULT_ABSTAIN_THRESHOLD, type CellClassifier, type ModelDirInfo, type ModelRuntime } from "./runtime.ts";

export interface LoadedClassifier {
  modelVersionId: string;
  model: CellClassifier;
  abstainThreshold: number;
}

/** Model directories are stored relative to `<dataDir>/models` when they live there. */
export function resolveModelDir(dataDir: string, artifactPath: string): string {
  return isAbsolute(artifactPath) ? artifactPath : join(dataDir, "models", artifactPath);
}

type RegisteredFiles = Pick<ModelVersion, "artifactSha256" | "labels" | "folderSha256">;
type VersionRef = Pick<ModelVersion, "id" | "artifactPath" | "metrics"> & RegisteredFiles;

/** Why a model directory on disk is not the registered model (null: it is). */
export function unregisteredChange(info: ModelDirInfo, version: RegisteredFiles): string | null {
  if (info.weightsSha256 !== version.artifactSha256) {
    return `its weights on disk hash to ${info.weightsSha256}, registered ${version.artifactSha256}`;
  }
  // The card names the output classes in order: an edited card would relabel every prediction
  // while the weights still hash as registered. Said apart, as the likeliest edit.
  if (info.labels.join("\n") !== version.labels.join("\n")) {
    return `its model-card.json lists the labels ${info.labels.join(", ")}, registered ${version.labels.join(", ")}`;
  }
  // Normalisation, calibration, abstain threshold or layers edited: as wrong, less visible.
  if (version.folderSha256 !== null && info.folderSha256 !== version.folderSha256) {
    return "its model-card.json or topology.json has changed since it was registered";
  }
  return null;
}

interface Entry {
  classifier: Promise<LoadedClassifier>;
  /** Callers inside use() now: an evicted entry is disposed only once the last one is done. */
  users: number;
  evicted: boolean;
}

export class ClassifierCache {
  /** Least recently used first (a Map keeps insertion order; a use moves its entry last). */
  private readonly loaded = new Map<string, Entry>();

  constructor(
    private readonly runtime: ModelRuntime,
    private readonly dataDir: string,
    /** Few versions are live at once (champion, a candidate under evaluation). */
    private readonly capacity = 3,
  ) {}

  /**
   * Runs `fn` with the version's classifier, loaded once and kept while in use: a comparison
   * over thousands of cells must not have its model disposed under it because a heat map
   * needed a fourth version meanwhile.
   */
  async use<T>(version: VersionRef, fn: (classifier: LoadedClassifier) => Promise<T>): Promise<T> {
    const entry = this.entryFor(version);
    entry.users++;
    try {
      return await fn(await entry.classifier);
    } finally {
      entry.users--;
      if (entry.evicted && entry.users === 0) disposeEntry(entry);
    }
  }

  private entryFor(version: VersionRef): Entry {
    const cached = this.loaded.get(version.id);
    if (cached) {
      this.loaded.delete(version.id);
      this.loaded.set(version.id, cached);
      return cached;
    }
    const entry: Entry = { classifier: this.load(version), users: 0, evicted: false };
    entry.classifier.catch(() => {
      if (this.loaded.get(version.id) === entry) this.loaded.delete(version.id);
    });
    this.loaded.set(version.id, entry);
    this.evict();
    return entry;
  }

  private async load(version: VersionRef): Promise<LoadedClassifier> {
    const dir = resolveModelDir(this.dataDir, version.artifactPath);
    const info = await this.runtime.inspectModelDir(dir);
    const change = unregisteredChange(info, version);
    if (change) throw new Error(`model version ${version.id}: ${change}`);
    const model = await this.runtime.loadClassifier(dir);
    return {
      modelVersionId: version.id,
      model,
      abstainThreshold: info.abstainThreshold ?? DEFAULT_ABSTAIN_THRESHOLD,
    };
  }

  private evict(): void {
    while (this.loaded.size > this.capacity) {
      const [id, entry] = this.loaded.entries().next().value as [string, Entry];
      this.loaded.delete(id);
      entry.evicted = true;
      if (entry.users === 0) disposeEntry(entry);
    }
  }

  dispose(): void {
    for (const entry of this.loaded.values()) {
      entry.evicted = true;
      if (entry.users === 0) disposeEntry(entry);
    }
    this.loaded.clear();
  }
}

function disposeEntry(entry: Entry): void {
  void entry.classifier.then(
    (c) => c.model.dispose(),
    () => undefined,
  );
}
