// Brings the whole platform up for the journeys and returns its teardown:
//   1. a fresh PostgreSQL database, seeded with the fast synthetic e2e profile (prepare.ts)
//   2. the API (tsx apps/api/src/server.ts) and one worker (tsx apps/api/src/worker.ts)
//   3. the dashboard's production build (next build when sources changed), served by apps/web/scripts/serve.ts
// on free ports. Tests read the addresses from process.env (E2E_*), which workers inherit.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureWebBuild, log, root, startPlatform, tsx } from "./platform";

const here = dirname(fileURLToPath(import.meta.url));
const logDir = join(here, "../.logs");

export default async function globalSetup() {
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(chromium)) throw new Error(`${chromium} is missing: apt-get install -y chromium (never npx playwright install)`);
  rmSync(logDir, { recursive: true, force: true });
  const t0 = Date.now();

  ensureWebBuild();

  const dataDir = mkdtempSync(join(tmpdir(), "rcmnet-e2e-"));
  log("creating and seeding the test database...");
  const prep = spawnSync(tsx, [join(here, "prepare.ts"), dataDir], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: process.env });
  if (prep.status !== 0) throw new Error("database preparation failed (see the output above)");
  const prepared = JSON.parse(prep.stdout.trim().split("\n").at(-1)!) as { databaseUrl: string; databaseName: string; fields: string[]; bad: string };

  const teardown = async (platform?: { stop(): Promise<void> }) => {
    await platform?.stop();
    spawnSync(tsx, [join(here, "dropDatabase.ts"), prepared.databaseName], { cwd: root, stdio: "inherit" });
    if (!process.env.E2E_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
  };

  let platform: Awaited<ReturnType<typeof startPlatform>>;
  try {
    platform = await startPlatform({ databaseUrl: prepared.databaseUrl, dataDir, logDir });
  } catch (err) {
    await teardown();
    throw err;
  }
  log(`platform up in ${((Date.now() - t0) / 1000).toFixed(0)} s: web ${platform.webUrl}, api ${platform.apiUrl}`);

  Object.assign(process.env, {
    E2E_BASE_URL: platform.webUrl,
    E2E_API_URL: platform.apiUrl,
    E2E_DATABASE_URL: prepared.databaseUrl,
    E2E_FIELDS: prepared.fields.join(","),
    E2E_BAD_FILE: prepared.bad,
  });
  return () => teardown(platform);
}
