import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The monorepo root, found from this file's location (packages/db/src). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const schemaPath = resolve(repoRoot, "prisma/schema.prisma");
export const migrationsDir = resolve(repoRoot, "prisma/migrations");
/** Default home of local state (embedded database, blobs, models) when nothing is configured. */
export const defaultDataDir = resolve(repoRoot, ".data");
