// registerModel: the weights must hash to what model-card.json declares, and only directories
// under the server's models dir are accepted.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { folderSha256 } from "../../jobs/model/modelRuntime.ts";

let api: TestApi;
let ds: string;

beforeAll(async () => {
  api = await createTestApi();
  ds = await api.loginAs("DATA_SCIENTIST");
});
afterAll(async () => {
  await api?.close();
});

const REGISTER = `mutation($p: String!) { registerModel(path: $p) { id name version status labels inputSize artifactSha256 } }`;
const codeOf = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;

async function writeModelDir(
  dir: string,
  options: { tamper?: boolean; name?: string; cropContext?: number | null; labels?: string[]; noTopology?: boolean; training?: Record<string, unknown> } = {},
) {
  const weights = randomBytes(256);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "weights.bin"), weights);
  const card = {
    format: "rcmnet-model-card/1",
    name: options.name ?? "rcmnet-external",
    architecture: "rcmnet",
    labels: options.labels ?? ["car_t", "lymphocyte", "neutrophil"],
    inputSize: 64,
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    abstainThreshold: 0.6,
    ...(options.cropContext !== undefined && { cropContext: options.cropContext }),
    ...(options.training && { training: options.training, calibration: { temperature: 1, fittedOn: "none" } }),
    weightsSha256: createHash("sha256").update(weights).digest("hex"),
  };
  await writeFile(join(dir, "model-card.json"), JSON.stringify(card));
  if (!options.noTopology) await writeFile(join(dir, "topology.json"), JSON.stringify({ format: "rcmnet-topology/1", config: {} }));
  if (options.tamper) await writeFile(join(dir, "weights.bin"), randomBytes(256));
  return card;
}

async function registryState() {
  return { versions: await api.prisma.modelVersion.count(), audit: await api.prisma.auditEvent.count() };
}

describe("registerModel", () => {
  it("registers a model directory as a CANDIDATE after checking its weights hash", async () => {
    const card = await writeModelDir(join(api.env.dataDir, "models", "external-1"));
    const v = (await api.gqlOk(ds, REGISTER, { p: "external-1" })).registerModel;
    expect(v).toMatchObject({
      name: "rcmnet-external",
      status: "CANDIDATE",
      labels: card.labels,
      inputSize: 64,
      artifactSha256: card.weightsSha256,
    });
    expect(v.version).toBe(`sha-${card.weightsSha256.slice(0, 12)}`);
    const row = await api.prisma.modelVersion.findUniqueOrThrow({ where: { id: v.id } });
    expect(row.artifactPath).toBe("external-1");
    // The card and topology as registered, what the worker and an approval compare against.
    const folder = join(api.env.dataDir, "models", "external-1");
    expect(row.folderSha256).toBe(
      folderSha256(await readFile(join(folder, "model-card.json"), "utf8"), await readFile(join(folder, "topology.json"))),
    );
    expect(await api.prisma.auditEvent.count({ where: { action: "model.register", entityId: v.id } })).toBe(
      1,
    );
    // The same weights twice: conflict.
    const before = await registryState();
    const again = await api.gql(ds, REGISTER, { p: join(api.env.dataDir, "models", "external-1") });
    expect(codeOf(again)).toBe("CONFLICT");
    expect(await registryState()).toEqual(before);
  });

  it("refuses a version whose folder another version was registered from (overwritten since), storing nothing", async () => {
    const folder = join(api.env.dataDir, "models", "reused-folder");
    await writeModelDir(folder, { name: "first-in-folder" });
    const first = (await api.gqlOk(ds, REGISTER, { p: "reused-folder" })).registerModel;
    // Someone copies another model over the registered one's files.
    await writeModelDir(folder, { name: "second-in-folder" });
    for (const p of ["reused-folder", folder, "./reused-folder/"]) {
      const before = await registryState();
      const r = await api.gql(ds, REGISTER, { p });
      expect(codeOf(r), p).toBe("CONFLICT");
      expect(r.errors?.[0]?.message, p).toMatch(new RegExp(`^first-in-folder ${first.version} was registered from this folder with other weights`));
      expect(r.errors?.[0]?.extensions?.modelVersionId, p).toBe(first.id);
      expect(await registryState()).toEqual(before);
    }
  });

  it("refuses tampered weights, missing cards, and paths outside the models dir, storing nothing", async () => {
    const models = join(api.env.dataDir, "models");
    await writeModelDir(join(models, "tampered"), { tamper: true });
    await writeModelDir(join(models, "framed-wider"), { name: "framed-wider", cropContext: 2 });
    await writeModelDir(join(models, "runs", "00000000-0000-4000-8000-00000000cafe"), { name: "a-run" });
    await mkdir(join(models, "empty"), { recursive: true });
    await writeModelDir(join(models, "no-topology"), { name: "no-topology", noTopology: true });
    await writeModelDir(join(models, "comma-label"), { name: "comma-label", labels: ["car_t", "lymphocyte, reactive"] });
    await writeModelDir(join(models, "twice"), { name: "twice", labels: ["car_t", "car_t"] });
    // Saved at the end of epoch 3 of 30 by a run still training (or cancelled since).
    await writeModelDir(join(models, "mid-run"), { name: "mid-run", training: { epochs: 30, epochsRun: 3, complete: false } });
    const outside = join(tmpdir(), `rcmnet-outside-${process.pid}`);
    await writeModelDir(outside);
    await symlink(outside, join(models, "sneaky-link")).catch(() => undefined);
    const NOT_HERE = /^No model directory at that path under the server's models directory$/;
    const cases: [string, RegExp][] = [
      ["tampered", /weights\.bin hashes to .* model-card\.json declares/],
      ["empty", /model-card\.json is missing/],
      ["no-topology", /topology\.json is missing/],
      ["comma-label", /label "lymphocyte, reactive" is not a plain class name/],
      ["twice", /lists a label twice/],
      ["mid-run", /^This model is from an unfinished training run \(saved at epoch 3 of 30, not calibrated\)/],
      ["runs/00000000-0000-4000-8000-00000000cafe", /Training-run folders are registered by their run/],
      ["framed-wider", /trained on crops framed at 2x the cell box; the platform frames cells at 1\.3x/],
      // One message whether a path is missing, outside, or led outside by a link: the answers
      // must not tell which files exist elsewhere on the server.
      ["does-not-exist", NOT_HERE],
      [outside, NOT_HERE],
      ["/etc/passwd", NOT_HERE],
      ["/no/such/file", NOT_HERE],
      ["../../etc", NOT_HERE],
      ["sneaky-link", NOT_HERE],
      ["", /path must have/],
    ];
    for (const [p, message] of cases) {
      const before = await registryState();
      const r = await api.gql(ds, REGISTER, { p });
      expect(codeOf(r), p).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0]?.message, p).toMatch(message);
      expect(JSON.stringify(r.errors)).not.toContain(api.env.dataDir);
      expect(await registryState()).toEqual(before);
    }
  });
});
