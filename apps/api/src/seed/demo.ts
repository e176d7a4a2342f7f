// Demo data for `npm start` (and, with profile "e2e", for the Playwright setup).
// Idempotent: every step looks at what exists first, so a second start (or a start after an
// interrupted one) adds only what is missing. Steps:
//   1. demo users (fixed logins, printed by the launcher)
//   2. the champion model (RCMNET_MODEL_DIR, else trained on synthetic cells once and cached)
//   3. demo cases with smear fields (BCCD JPEGs from RCMNET_DEMO_FIELDS, else synthetic)
//   4. their analysis (the worker's own handler, run in this process until done)
//   5. two cases reviewed against the synthetic ground truth and signed out (training data)
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobStore, createPrismaClient } from "@rcmnet/db";
import { createHandlers } from "../jobs/handlers/index.ts";
import { ClassifierCache } from "../jobs/model/classifierCache.ts";
import { getModelRuntime, initModelBackend, synthDemoField } from "../jobs/model/modelRuntime.ts";
import type { JobLogger } from "../jobs/types.ts";
import { DEMO_CASES, E2E_CASES, ensureDemoCases, fieldSource, listFieldFiles } from "./demoCases.ts";
import { DEMO_RECIPE, E2E_RECIPE, ensureChampion } from "./demoChampion.ts";
import { reviewAndSignOut } from "./demoSignOut.ts";
import { DEMO_USERS, ensureDemoUsers } from "./demoUsers.ts";
import { drainJobs } from "./drainJobs.ts";

// The e2e setup writes the upload fixtures with the same synthetic fields (one import: `@rcmnet/api/seed`).
export { synthDemoField };

export interface SeedOptions {
  databaseUrl: string;
  dataDir: string;
  /** One line per step; the launcher passes its prefixed logger. */
  log?: (message: string) => void;
  /**
   * "demo" (default): six cases, fields from `fieldsDir` when it has JPEGs, a champion trained
   * for about a minute. "e2e": synthetic only, four small cases, a champion trained in seconds:
   * for Playwright's global setup.
   */
  profile?: "demo" | "e2e";
  /** Model directory to register as champion instead of training one. Default: RCMNET_MODEL_DIR. */
  modelDir?: string;
  /** Folder of smear-field JPEGs (BCCD layout works). Default: RCMNET_DEMO_FIELDS. Ignored by "e2e". */
  fieldsDir?: string;
  /**
   * The embedded database (`npm start` without DATABASE_URL): a demo database whatever it holds
   * (README), so it is never refused, including one seeded before the demo's users were audited.
   */
  embedded?: boolean;
  /** Draw a progress bar on this stream while the champion trains (default: stderr when it is a TTY). */
  progressStream?: NodeJS.WriteStream | null;
}

export interface SeedResult {
  championModelVersionId: string;
  cases: { accession: string; status: string }[];
  logins: { login: string; password: string; role: string }[];
}

export async function seedDemo(options: SeedOptions): Promise<SeedResult> {
  const profile = options.profile ?? "demo";
  const say = options.log ?? ((m: string) => console.log(`[seed] ${m}`));
  // The seed runs in the launcher, not in the API: it reads its two optional folders here.
  const modelDir = options.modelDir ?? process.env.RCMNET_MODEL_DIR ?? undefined;
  const fieldsDir = profile === "e2e" ? undefined : (options.fieldsDir ?? process.env.RCMNET_DEMO_FIELDS);
  const stream =
    options.progressStream === undefined
      ? process.stderr.isTTY
        ? process.stderr
        : null
      : options.progressStream;

  const prisma = createPrismaClient(options.databaseUrl, { max: 3 });
  const blobs = new BlobStore(join(options.dataDir, "blobs"));
  try {
    // First, before anything is stored: refused unless this is (or can become) a demo database.
    const users = await ensureDemoUsers(prisma, options.embedded ? "embedded" : [...DEMO_CASES, ...E2E_CASES].filter((c) => c.signOut).map((c) => c.accession));
    say(`demo users ready (${DEMO_USERS.map((u) => u.login).join(", ")})`);

    const backend = await initModelBackend();
    const runtime = await getModelRuntime();
    say(`model backend: ${backend}`);
    const champion = await ensureChampion({
      prisma,
      runtime,
      dataDir: options.dataDir,
      modelDir,
      recipe: profile === "e2e" ? E2E_RECIPE : DEMO_RECIPE,
      // The e2e setup starts from an empty data dir every run: its tiny champion is cached in
      // the system temp dir instead (keyed by recipe), so only the first run trains it.
      cacheDir:
        profile === "e2e"
          ? join(
              tmpdir(),
              `rcmnet-e2e-champion-${E2E_RECIPE.inputSize}-${E2E_RECIPE.widthMultiplier}-${E2E_RECIPE.epochs}`,
            )
          : undefined,
      say,
      progressBar: progressBar(stream, say),
    });
    say(`champion: ${champion.name} ${champion.version}`);

    const files = await listFieldFiles(fieldsDir);
    if (fieldsDir)
      say(
        files.length
          ? `smear fields from ${fieldsDir} (${files.length} JPEGs)`
          : `no JPEGs in ${fieldsDir}: synthetic fields`,
      );
    const { toSignOut } = await ensureDemoCases({
      prisma,
      blobs,
      runtime,
      technician: users.tech,
      specs: profile === "e2e" ? E2E_CASES : DEMO_CASES,
      fields: fieldSource(files, synthDemoField),
    });

    const classifiers = new ClassifierCache(runtime, options.dataDir);
    const log = quietLogger(say);
    const bar = progressBar(stream, say);
    await drainJobs({
      prisma,
      blobs,
      dataDir: options.dataDir,
      log,
      // Only analysis: a training run someone queued waits for the real worker.
      handlers: { analyzeSlide: createHandlers({ runtime, classifiers }).analyzeSlide! },
      onProgress: (done, total) => bar(total === 0 ? 1 : done / total, `analysing slides ${done}/${total}`),
    });
    classifiers.dispose();

    for (const item of toSignOut) {
      const outcome = await reviewAndSignOut({
        prisma,
        hematologist: users.hema,
        password: DEMO_USERS.find((u) => u.login === "hema")!.password,
        kase: item.case,
        truthBySlide: item.truthBySlide,
      });
      if (outcome === "signed") say(`${item.case.accession} reviewed and signed out`);
    }

    const specs = profile === "e2e" ? E2E_CASES : DEMO_CASES;
    const cases = await prisma.case.findMany({
      where: { accession: { in: specs.map((s) => s.accession) } },
      orderBy: { accession: "asc" },
      select: { accession: true, status: true },
    });
    say(`demo cases: ${cases.map((c) => `${c.accession} ${c.status}`).join(", ")}`);
    return {
      championModelVersionId: champion.id,
      cases,
      logins: DEMO_USERS.map((u) => ({ login: u.login, password: u.password, role: u.role })),
    };
  } finally {
    await prisma.$disconnect();
  }
}

/** Shorthand for the Playwright global setup: fast, synthetic only. */
export function seedE2E(options: Omit<SeedOptions, "profile">): Promise<SeedResult> {
  return seedDemo({ ...options, profile: "e2e" });
}

/** A one-line bar redrawn in place on a TTY; otherwise a line at each 25 %. */
function progressBar(stream: NodeJS.WriteStream | null, say: (m: string) => void) {
  let lastQuarter = -1;
  return (fraction: number, label: string) => {
    const f = Math.max(0, Math.min(1, fraction));
    if (stream) {
      const width = 30;
      const filled = Math.round(f * width);
      stream.write(
        `\r[seed] [${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round(f * 100)).padStart(3)}%  ${label}\x1b[K`,
      );
      if (f >= 1) stream.write("\n");
    } else {
      const quarter = Math.floor(f * 4);
      if (quarter !== lastQuarter) {
        lastQuarter = quarter;
        say(`${Math.round(f * 100)}% ${label}`);
      }
    }
  };
}

/** Handler logs go to the seed's own output only when something is wrong. */
function quietLogger(say: (m: string) => void): JobLogger {
  return {
    info() {},
    warn: (m, f) => say(`warning: ${m} ${f ? JSON.stringify(f) : ""}`),
    error: (m, f) => say(`error: ${m} ${f ? JSON.stringify(f) : ""}`),
  };
}
