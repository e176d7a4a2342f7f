// Run by the Playwright global setup under tsx (the workspace packages export TypeScript
// sources with .ts imports, which tsx runs as they are): a fresh PostgreSQL database cloned
// from the migrated template, the fast synthetic e2e seed, and the image files the journeys
// upload. Prints one JSON line for the setup to read.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTestDatabase } from "@rcmnet/db/testing";

// The API package exports its seed (`@rcmnet/api/seed`, a devDependency here); it also
// re-exports the synthetic smear fields the journeys upload.
import { seedE2E, synthDemoField } from "@rcmnet/api/seed";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: prepare.ts <dataDir>");

const db = await createTestDatabase();
// The database outlives this process: the API and worker use it; teardown drops it.
await db.prisma.$disconnect();
const t0 = Date.now();
await seedE2E({ databaseUrl: db.url, dataDir, log: (m) => process.stderr.write(`[seed] ${m}\n`), progressStream: null });
process.stderr.write(`[seed] done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

const files = join(dataDir, "e2e-files");
await mkdir(files, { recursive: true });
const fields: string[] = [];
// Two fields the journeys upload, then one per labelling round of the retraining journey: each
// case a different image, since the same image in two patients' cases is held out of a
// snapshot's TEST part (or TRAIN) and could leave TEST empty round after round.
for (const seed of [101, 202, 301, 302, 303, 304, 305, 306, 307, 308]) {
  const field = await synthDemoField(seed);
  const path = join(files, `field-${seed}.jpg`);
  await writeFile(path, field.bytes);
  fields.push(path);
}
// Not an image, whatever its name says: the API must refuse it by content.
const bad = join(files, "not-an-image.png");
await writeFile(bad, "this is a text file pretending to be a PNG\n");

process.stdout.write(`${JSON.stringify({ databaseUrl: db.url, databaseName: db.name, fields, bad })}\n`);
process.exit(0);
