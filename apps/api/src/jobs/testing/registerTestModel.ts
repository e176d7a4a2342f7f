import type { ModelStatus, PrismaClient } from "@rcmnet/db";
import { getModelRuntime } from "../model/modelRuntime.ts";

/** Registers a model directory (absolute path) straight into the registry, for tests. */
export async function registerTestModel(
  prisma: PrismaClient,
  dir: string,
  status: ModelStatus,
  version?: string,
) {
  const info = await (await getModelRuntime()).inspectModelDir(dir);
  return prisma.modelVersion.create({
    data: {
      name: info.name,
      version: version ?? info.version,
      labels: info.labels,
      inputSize: info.inputSize,
      normalization: info.normalization as object,
      architecture: info.architecture as object,
      metrics: info.metrics as object,
      artifactPath: dir,
      artifactSha256: info.weightsSha256,
      status,
    },
  });
}
