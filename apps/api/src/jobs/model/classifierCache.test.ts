// The cache's lifetime rules with a stand-in runtime: a model in use is never disposed under its
// user, and eviction drops the least recently used version.
import { describe, expect, it } from "vitest";
import { ClassifierCache } from "./classifierCache.ts";
import type { CellClassifier, ModelRuntime } from "./runtime.ts";

function fakeRuntime() {
  const disposed: string[] = [];
  const loads: string[] = [];
  const runtime = {
    inspectModelDir: async (dir: string) => ({
      weightsSha256: `sha-${dir.split("/").at(-1)}`,
      folderSha256: `folder-${dir.split("/").at(-1)}`,
      labels: ["car_t", "lymphocyte"],
      abstainThreshold: null,
    }),
    loadClassifier: async (dir: string) => {
      const name = dir.split("/").at(-1)!;
      loads.push(name);
      return { dispose: () => disposed.push(name) } as unknown as CellClassifier;
    },
  } as unknown as ModelRuntime;
  return { runtime, disposed, loads };
}

const version = (id: string) => ({
  id,
  artifactPath: id,
  artifactSha256: `sha-${id}`,
  folderSha256: `folder-${id}` as string | null,
  metrics: {},
  labels: ["car_t", "lymphocyte"],
});

describe("ClassifierCache", () => {
  it("keeps a model loaded while it is in use, even when another version evicts it", async () => {
    const { runtime, disposed } = fakeRuntime();
    const cache = new ClassifierCache(runtime, "/data", 1);
    await cache.use(version("a"), async () => {
      // A heat map of another version while a comparison still runs on a.
      await cache.use(version("b"), async () => undefined);
      await Promise.resolve();
      expect(disposed).toEqual([]);
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(disposed).toEqual(["a"]);
  });

  it("evicts the least recently used version, not the first loaded", async () => {
    const { runtime, disposed, loads } = fakeRuntime();
    const cache = new ClassifierCache(runtime, "/data", 2);
    const touch = (id: string) => cache.use(version(id), async () => undefined);
    await touch("champion");
    await touch("candidate");
    await touch("champion");
    await touch("older");
    await new Promise((r) => setTimeout(r, 0));
    expect(disposed).toEqual(["candidate"]);
    await touch("champion");
    expect(loads).toEqual(["champion", "candidate", "older"]);
  });

  it("refuses weights that are not the registered ones, and tries again on the next use", async () => {
    const { runtime, loads } = fakeRuntime();
    const cache = new ClassifierCache(runtime, "/data", 2);
    await expect(cache.use({ ...version("a"), artifactSha256: "other" }, async () => undefined)).rejects.toThrow(/registered other/);
    await cache.use(version("a"), async () => undefined);
    expect(loads).toEqual(["a"]);
  });

  it("refuses a model card or topology changed since registration (same weights, same labels)", async () => {
    const { runtime, loads } = fakeRuntime();
    const cache = new ClassifierCache(runtime, "/data", 2);
    await expect(cache.use({ ...version("c"), folderSha256: "folder-as-registered" }, async () => undefined)).rejects.toThrow(
      /model version c: its model-card\.json or topology\.json has changed since it was registered/,
    );
    expect(loads).toEqual([]);
    // Registered before the folder hash existed: checked by weights and labels only.
    await cache.use({ ...version("d"), folderSha256: null }, async () => undefined);
    expect(loads).toEqual(["d"]);
  });

  it("refuses a model card whose labels are not the registered ones (same weights, classes renamed or reordered)", async () => {
    const { runtime, loads } = fakeRuntime();
    const cache = new ClassifierCache(runtime, "/data", 2);
    await expect(cache.use({ ...version("b"), labels: ["lymphocyte", "car_t"] }, async () => undefined)).rejects.toThrow(/lists the labels car_t, lymphocyte, registered lymphocyte, car_t/);
    expect(loads).toEqual([]);
    await cache.use({ ...version("b"), labels: ["car_t", "lymphocyte"] }, async () => undefined);
    expect(loads).toEqual(["b"]);
  });
});
