// What `npm start` does for a real install instead of the demo seed: the first administrator
// (firstAdmin.ts) and, when RCMNET_MODEL_DIR names a trained model, that model as champion.
// No demo users, no synthetic model, no synthetic cases.
import { createPrismaClient } from "@rcmnet/db";
import { getModelRuntime, initModelBackend } from "../jobs/model/modelRuntime.ts";
import { DEMO_RECIPE, ensureChampion } from "./demoChampion.ts";
import { ensureFirstAdmin, type FirstAdminInput } from "./firstAdmin.ts";

export interface InstallOptions {
  databaseUrl: string;
  dataDir: string;
  admin: FirstAdminInput;
  modelDir?: string;
  log: (message: string) => void;
}

export async function prepareInstall(options: InstallOptions): Promise<void> {
  const prisma = createPrismaClient(options.databaseUrl, { max: 2 });
  try {
    const admin = await ensureFirstAdmin(prisma, options.admin);
    if (admin) options.log(`first administrator created: ${admin.login} (audited; its password is temporary: sign in and choose a new one, then remove RCMNET_ADMIN_PASSWORD from the environment)`);
    if (options.modelDir) {
      await initModelBackend();
      const champion = await ensureChampion({
        prisma,
        runtime: await getModelRuntime(),
        dataDir: options.dataDir,
        modelDir: options.modelDir,
        // Not used: a model directory is given, nothing is trained.
        recipe: DEMO_RECIPE,
        say: options.log,
        progressBar: () => {},
      });
      options.log(`champion: ${champion.name} ${champion.version}`);
    } else if (!(await prisma.modelVersion.count({ where: { status: "CHAMPION" } }))) {
      options.log("no model is serving yet: set RCMNET_MODEL_DIR to a trained model directory (docs/model.md)");
    }
  } finally {
    await prisma.$disconnect();
  }
}
