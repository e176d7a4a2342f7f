// Page-speed check: how long until the case review page with 300 cells is interactive, in
// Chromium, against the real API, PostgreSQL and the production build of the dashboard.
//
//   npm run bench:review -w @rcmnet/e2e            (RUNS=7 CELLS=300 to change)
//
// "Interactive" = the review page's keyboard handlers are attached: the page sets the
// performance mark "review-interactive" in the effect that installs them (time since the
// navigation started, in the browser's own clock). The bench also measures, from the Node
// side, navigation start -> an ArrowRight press has moved the cursor (includes Playwright's
// own round trips, so it is an upper bound). The database is a fresh one, filled directly
// with a synthetic case (one 2400x1800 field, CELLS cells with crops and predictions).
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "@playwright/test";
import sharp from "sharp";
import { BlobStore } from "@rcmnet/db";
import { createTestDatabase } from "@rcmnet/db/testing";
import { ensureWebBuild, log, startPlatform } from "../support/platform.ts";
import { CASE_CELLS } from "../../apps/web/src/lib/operations.ts";

const CELLS = Number(process.env.CELLS ?? 300);
const RUNS = Number(process.env.RUNS ?? 7);
const LABELS = ["car_t", "lymphocyte", "neutrophil", "monocyte", "eosinophil"];

interface DemoUsersModule {
  ensureDemoUsers(prisma: unknown): Promise<Record<string, { id: string }>>;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function seedCase(db: Awaited<ReturnType<typeof createTestDatabase>>, dataDir: string) {
  const { ensureDemoUsers } = (await import(new URL("../../apps/api/src/seed/demoUsers.ts", import.meta.url).href)) as DemoUsersModule;
  const users = await ensureDemoUsers(db.prisma);
  const blobs = new BlobStore(join(dataDir, "blobs"));
  const W = 2400;
  const H = 1800;
  const field = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 236, g: 214, b: 222 } } }).jpeg({ quality: 80 }).toBuffer();
  const fieldSha = await blobs.put(field);
  const model = await db.prisma.modelVersion.create({
    data: {
      name: "bench",
      version: "1",
      labels: LABELS,
      inputSize: 64,
      normalization: {},
      architecture: {},
      metrics: {},
      artifactPath: "/nonexistent",
      artifactSha256: "0".repeat(64),
      status: "CHAMPION",
    },
  });
  const kase = await db.prisma.case.create({
    data: { accession: `BENCH-${CELLS}`, status: "IN_REVIEW", priority: "ROUTINE", createdById: users.tech!.id },
  });
  const slide = await db.prisma.slide.create({
    data: {
      caseId: kase.id,
      kind: "FIELD",
      imageSha256: fieldSha,
      mimeType: "image/jpeg",
      byteSize: field.length,
      width: W,
      height: H,
      analysisStatus: "DONE",
      uploadedById: users.tech!.id,
    },
  });
  const rand = rng(42);
  const cols = Math.ceil(Math.sqrt((CELLS * W) / H));
  const step = Math.floor(W / cols);
  for (let i = 0; i < CELLS; i++) {
    const hue = Math.floor(rand() * 255);
    const crop = await sharp({ create: { width: 128, height: 128, channels: 3, background: { r: 200, g: hue, b: 220 - (i % 50) } } }).png().toBuffer();
    const cropSha = await blobs.put(crop);
    const label = LABELS[Math.floor(rand() * LABELS.length)]!;
    const confidence = 0.35 + rand() * 0.64;
    const probabilities = Object.fromEntries(LABELS.map((l) => [l, l === label ? confidence : (1 - confidence) / (LABELS.length - 1)]));
    const abstained = confidence < 0.45;
    const cell = await db.prisma.cell.create({
      data: {
        slideId: slide.id,
        x: (i % cols) * step + 4,
        y: Math.floor(i / cols) * step + 4,
        width: step - 8,
        height: step - 8,
        cropSha256: cropSha,
        currentLabel: abstained ? "unidentified" : label,
      },
    });
    await db.prisma.prediction.create({ data: { cellId: cell.id, modelVersionId: model.id, label, probabilities, confidence, abstained } });
  }
  return kase.id;
}

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const db = await createTestDatabase();
const dataDir = mkdtempSync(join(tmpdir(), "rcmnet-bench-"));
let stop: (() => Promise<void>) | undefined;
try {
  ensureWebBuild();
  const caseId = await seedCase(db, dataDir);
  log(`seeded a case with ${CELLS} cells`);
  const platform = await startPlatform({ databaseUrl: db.url, dataDir, logDir: join(dataDir, "logs"), worker: false });
  stop = platform.stop;

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${platform.webUrl}/login`);
  await page.getByTestId("login-username").fill("hema");
  await page.getByTestId("login-password").fill("hema-demo-pass");
  await page.getByTestId("login-submit").click();
  await page.getByTestId("user-role").waitFor();

  // The API's share: the review page's cell query, straight from Node as the hematologist.
  const token = (
    (await (
      await fetch(`${platform.apiUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: 'mutation { login(login: "hema", password: "hema-demo-pass") { token } }' }),
      })
    ).json()) as { data: { login: { token: string } } }
  ).data.login.token;
  const apiMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const res = await fetch(`${platform.apiUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: CASE_CELLS, variables: { id: caseId, first: 500 } }),
    });
    const body = (await res.json()) as { data?: { case: { cells: { nodes: unknown[] } } }; errors?: unknown };
    if (!body.data || body.data.case.cells.nodes.length !== CELLS) throw new Error(`cells query: ${JSON.stringify(body.errors)}`);
    apiMs.push(performance.now() - t);
  }
  log(`API cells query: ${apiMs.map((x) => x.toFixed(0)).join(", ")} ms`);

  const interactive: number[] = [];
  const keyResponsive: number[] = [];
  const dcl: number[] = [];
  const ttfb: number[] = [];
  let htmlBytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const t0 = Date.now();
    await page.goto(`${platform.webUrl}/cases/${caseId}/review`, { waitUntil: "commit" });
    await page.waitForFunction(() => performance.getEntriesByName("review-interactive").length > 0, null, { timeout: 30_000 });
    const first = await page.locator('[data-testid="cell-tile"][data-current="true"]').getAttribute("data-cell-id");
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction((id) => document.querySelector('[data-testid="cell-tile"][data-current="true"]')?.getAttribute("data-cell-id") !== id, first);
    keyResponsive.push(Date.now() - t0);
    const m = await page.evaluate(() => ({
      interactive: performance.getEntriesByName("review-interactive")[0]!.startTime,
      dcl: (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).domContentLoadedEventEnd,
      ttfb: (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).responseStart,
      htmlBytes: (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).decodedBodySize,
      tiles: document.querySelectorAll('[data-testid="cell-tile"]').length,
    }));
    if (m.tiles !== CELLS) throw new Error(`expected ${CELLS} tiles, found ${m.tiles}`);
    interactive.push(m.interactive);
    dcl.push(m.dcl);
    ttfb.push(m.ttfb);
    htmlBytes = m.htmlBytes;
    log(`run ${run + 1}: interactive ${m.interactive.toFixed(0)} ms, first byte ${m.ttfb.toFixed(0)} ms, DOMContentLoaded ${m.dcl.toFixed(0)} ms, key response ${keyResponsive.at(-1)} ms`);
  }
  await browser.close();
  const result = {
    // Other work on this 2-core machine skews the figures: the 1-minute load average is kept with them.
    loadAverage1m: Number(loadavg()[0]!.toFixed(1)),
    cells: CELLS,
    runs: RUNS,
    interactiveMs: { first: Math.round(interactive[0]!), median: Math.round(median(interactive)), max: Math.round(Math.max(...interactive)) },
    firstByteMs: { median: Math.round(median(ttfb)) },
    domContentLoadedMs: { median: Math.round(median(dcl)) },
    apiCellsQueryMs: { median: Math.round(median(apiMs)) },
    htmlKiB: Math.round(htmlBytes / 1024),
    navigationToKeyResponseMs: { first: keyResponsive[0], median: median(keyResponsive), max: Math.max(...keyResponsive) },
  };
  console.log(JSON.stringify(result));
} finally {
  await stop?.();
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
