// What `npm start` does for a real install instead of the demo seed: the first administrator
// (firstAdmin.ts) and, when RCMNET_MODEL_DIR names a trained model and no champion serves yet,
// that model as the first champion (modelDirChampion.ts: registerModel's checks, never a model
// the registry turned away; otherwise the start is refused). A champion already serving is
// never replaced here: only an approved promotion does that. No demo users, no synthetic model,
// no synthetic cases.
import { createPrismaClient } from "@rcmnet/db";
import { ensureFirstAdmin, type FirstAdminInput } from "./firstAdmin.ts";
import { championFromModelDir } from "./modelDirChampion.ts";

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
      const { line } = await championFromModelDir(prisma, { dataDir: options.dataDir, modelDir: options.modelDir, demo: false });
      options.log(line);
    } else if (!(await prisma.modelVersion.count({ where: { status: "CHAMPION" } }))) {
      options.log("no model is serving yet: set RCMNET_MODEL_DIR to a trained model directory (docs/model.md)");
    }
  } finally {
    await prisma.$disconnect();
  }
}
