// Load benchmark: seeds 10,000 cases / 500,000 cells (+ 500,000 predictions) into a PostgreSQL
// database with set-based INSERT ... SELECT generate_series (seconds, not minutes), starts the API
// as its own process, and measures the worklist and case-review queries with autocannon: at a
// fixed 100 requests/s (latency under the target load) and flat out (throughput).
//
//   npm run bench -w @rcmnet/api            (uses postgresql://postgres@127.0.0.1:5432, db rcmnet_bench)
//   BENCH_SERVER_URL=postgresql://user@host:5432/postgres BENCH_DURATION_S=20 npm run bench -w @rcmnet/api
//
// The benchmark database is dropped and recreated on every run.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir, cpus, loadavg } from "node:os";
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import pg from "pg";
import { applyMigrations } from "@rcmnet/db";
import { hashPassword } from "../src/auth/passwords.ts";

// Benchmark configuration comes from the environment of this script only (not the API's env.ts).
const cfg = process.env;
const SERVER_URL = cfg.BENCH_SERVER_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const DB_NAME = cfg.BENCH_DB ?? "rcmnet_bench";
const CASES = Number(cfg.BENCH_CASES ?? 10_000);
const CELLS_PER_CASE = Number(cfg.BENCH_CELLS_PER_CASE ?? 50);
const DURATION_S = Number(cfg.BENCH_DURATION_S ?? 20);
const PORT = Number(cfg.BENCH_API_PORT ?? 4400);
/** API_WORKERS for the API under test (node:cluster HTTP workers). */
const WORKERS = Number(cfg.BENCH_API_WORKERS ?? 2);
const apiDir = join(dirname(fileURLToPath(import.meta.url)), "..");

const dbUrl = (() => {
  const u = new URL(SERVER_URL);
  u.pathname = `/${DB_NAME}`;
  return u.toString();
})();

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: SERVER_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function seed(): Promise<{ caseIds: string[]; password: string }> {
  await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${DB_NAME}"`);
  await applyMigrations(dbUrl);
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  // Timestamps are UTC without a time zone, as the platform's client writes them (packages/db's
  // client sets the same): column defaults such as a signature's signedAt, which the database
  // refuses when it is not its clock's UTC time, are then right on a server in any time zone.
  await c.query("SET TIME ZONE 'UTC'");
  const password = "bench-password-1";
  const hash = await hashPassword(password);
  const t0 = performance.now();
  try {
    await c.query("BEGIN");
    await c.query(
      `INSERT INTO "user" (id, login, "displayName", "passwordHash", role, "updatedAt") VALUES
       ('00000000-0000-4000-8000-000000000001', 'bench-tech', 'Bench Technician', $1, 'TECHNICIAN', now()),
       ('00000000-0000-4000-8000-000000000002', 'bench-hema', 'Dr. Bench Hematologist', $1, 'HEMATOLOGIST', now())`,
      [hash],
    );
    await c.query(
      `INSERT INTO model_version (id, name, version, labels, "inputSize", normalization, architecture, metrics, "artifactPath", "artifactSha256", status)
       VALUES ('00000000-0000-4000-8000-0000000000aa', 'rcmnet-bench', '1', ARRAY['car_t','lymphocyte','neutrophil','monocyte','eosinophil'],
               64, '{}', '{}', '{}', '/bench', repeat('0', 64), 'CHAMPION')`,
    );
    // Cases: mostly IN_REVIEW, some signed (after their cells: a signed case takes none);
    // priorities spread; creation times over 30 days. The database dates every new case by its own
    // clock (case_time_from_database): switched off for this load only, inside its transaction (the
    // bench runs as the tables' owner), so that the worklist's order has a history to sort.
    await c.query(`ALTER TABLE "case" DISABLE TRIGGER case_time_from_database`);
    await c.query(
      `INSERT INTO "case" (id, accession, "patientRef", product, timepoint, status, priority, "createdById", "createdAt", "updatedAt")
       SELECT gen_random_uuid(), 'BENCH-' || lpad(i::text, 6, '0'), 'MRN-' || i, 'tisagenlecleucel', 'day +' || (i % 28),
              'IN_REVIEW'::"CaseStatus",
              (CASE WHEN i % 20 = 0 THEN 'STAT' WHEN i % 7 = 0 THEN 'URGENT' ELSE 'ROUTINE' END)::"Priority",
              '00000000-0000-4000-8000-000000000001', now() - (i || ' minutes')::interval * 4, now()
       FROM generate_series(1, $1::int) AS i`,
      [CASES],
    );
    await c.query(`ALTER TABLE "case" ENABLE TRIGGER case_time_from_database`);
    await c.query(
      `INSERT INTO slide (id, "caseId", kind, "imageSha256", "mimeType", "byteSize", width, height, "analysisStatus", "uploadedById", "updatedAt")
       SELECT gen_random_uuid(), id, 'FIELD', encode(sha256(id::text::bytea), 'hex'), 'image/jpeg', 250000, 1600, 1200, 'DONE',
              '00000000-0000-4000-8000-000000000001', now()
       FROM "case"`,
    );
    await c.query(
      `INSERT INTO cell (id, "slideId", x, y, width, height, "detectionScore", "cropSha256", "currentLabel")
       SELECT gen_random_uuid(), s.id, (k % 25) * 60, (k / 25) * 60, 56, 56, 0.9,
              encode(sha256((s.id::text || k)::bytea), 'hex'),
              (ARRAY['car_t','lymphocyte','neutrophil','monocyte','eosinophil'])[1 + (k % 5)]
       FROM slide s, generate_series(0, $1::int - 1) AS k`,
      [CELLS_PER_CASE],
    );
    await c.query(
      `INSERT INTO prediction (id, "cellId", "modelVersionId", label, probabilities, confidence, abstained)
       SELECT gen_random_uuid(), c.id, '00000000-0000-4000-8000-0000000000aa', c."currentLabel",
              jsonb_build_object(c."currentLabel", 0.8, 'other', 0.2), 0.8, false
       FROM cell c`,
    );
    // Signed with a (stub) signature each, as the database requires (migration signature_integrity).
    await c.query(
      `INSERT INTO sign_off (id, "caseId", version, "signerId", "signerName", meaning, content, "contentSha256")
       SELECT gen_random_uuid(), id, 1, '00000000-0000-4000-8000-000000000002', 'Dr. Bench Hematologist', 'Reviewed and approved',
              jsonb_build_object('schema', 'bench', 'caseId', id), encode(sha256(('bench/' || id)::bytea), 'hex')
       FROM "case" WHERE substring(accession from 7)::int % 5 = 0`,
    );
    await c.query(`UPDATE "case" SET status = 'SIGNED_OUT', "reportVersion" = 1 WHERE substring(accession from 7)::int % 5 = 0`);
    await c.query("COMMIT");
    await c.query("ANALYZE");
    const { rows } = await c.query(`SELECT id FROM "case" WHERE status = 'IN_REVIEW' ORDER BY random() LIMIT 200`);
    const counts = await c.query(`SELECT (SELECT count(*) FROM "case") AS cases, (SELECT count(*) FROM cell) AS cells, (SELECT count(*) FROM prediction) AS predictions`);
    console.log(`seeded ${JSON.stringify(counts.rows[0])} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return { caseIds: rows.map((r: { id: string }) => r.id), password };
  } finally {
    await c.end();
  }
}

async function startApi(dataDir: string): Promise<ChildProcess> {
  // A larger young generation halves scavenge GC time for this allocation-heavy server (the
  // launcher may pass the same flag); see docs/performance.md.
  const child = spawn(process.execPath, ["--max-semi-space-size=32", "--import", "tsx", "src/server.ts"], {
    cwd: apiDir,
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: dbUrl,
      // The bench database's owner, on a throwaway database: measured, not deployed.
      RCMNET_ALLOW_OWNER_ROLE: "1",
      API_PORT: String(PORT),
      RCMNET_DATA_DIR: dataDir,
      RCMNET_AUTH_SECRET: randomBytes(32).toString("hex"),
      RCMNET_LOG_LEVEL: "error",
      API_WORKERS: String(WORKERS),
      // One token drives hundreds of requests per second here: measure capacity, not the limiter.
      RCMNET_TOKEN_REQUESTS_PER_MINUTE: "1000000000",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => setTimeout(r, 500));
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/health`)).ok) return child;
    } catch {
      /* not up yet */
    }
  }
  child.kill();
  throw new Error("API did not start");
}

async function gql(token: string | null, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`http://127.0.0.1:${PORT}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

export const WORKLIST = `query Worklist { cases(filter: { status: [IN_REVIEW] }, first: 50) {
  nodes { id accession priority status createdAt cellCount reviewedCount } pageInfo { endCursor hasNextPage } } }`;

export const CASE_REVIEW = `query CaseReview($id: ID!) { case(id: $id) {
  id accession status priority reportVersion cellCount reviewedCount createdBy { displayName }
  slides { id imageUrl width height analysisStatus }
  differential { total counted cartCount cartPercent rows { label count percent } }
  cells(first: 1000) { totalCount pageInfo { hasNextPage }
    nodes { id x y width height currentLabel reviewCount humanDecided cropUrl
      prediction { label confidence abstained probabilities modelVersionId }
      reviews { seq label reason reviewer { displayName } } } } } }`;

/** CPU time (user + system, ms) used so far by a process and its cluster workers, from /proc (Linux). */
function cpuMs(pid: number): number | null {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...children].reduce((sum, p) => sum + (ownCpuMs(p) ?? 0), 0);
  } catch {
    return ownCpuMs(pid);
  }
}

function ownCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of stat)
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

let apiPid = 0;

interface Row {
  cpuPerReq: number | null;
  name: string;
  rate: string;
  p50: number;
  p97_5: number;
  p99: number;
  max: number;
  rps: number;
  non2xx: number;
  errors: number;
}

async function measure(name: string, token: string, body: (i: number) => string, rate: number | null): Promise<Row> {
  let i = 0;
  const cpu0 = cpuMs(apiPid);
  const result = await autocannon({
    url: `http://127.0.0.1:${PORT}/graphql`,
    method: "POST",
    connections: rate ? 10 : 20,
    duration: DURATION_S,
    ...(rate ? { overallRate: rate } : {}),
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    requests: [{ setupRequest: (req: any) => ({ ...req, body: body(i++) }) }],
  });
  const cpu1 = cpuMs(apiPid);
  const total = result.requests.total || 1;
  return {
    cpuPerReq: cpu0 === null || cpu1 === null ? null : Math.round(((cpu1 - cpu0) / total) * 10) / 10,
    name,
    rate: rate ? `${rate} req/s` : "max",
    p50: result.latency.p50,
    p97_5: result.latency.p97_5,
    p99: result.latency.p99,
    max: result.latency.max,
    rps: Math.round(result.requests.average),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function main() {
  const { caseIds, password } = await seed();
  const dataDir = await mkdtemp(join(tmpdir(), "rcmnet-bench-"));
  const api = await startApi(dataDir);
  apiPid = api.pid ?? 0;
  try {
    const login = await gql(null, `mutation { login(login: "bench-hema", password: "${password}") { token } }`);
    const token: string = login.login.token;
    // Pre-flight: both queries answer without errors and return the expected sizes.
    const wl = await gql(token, WORKLIST);
    const cr = await gql(token, CASE_REVIEW, { id: caseIds[0] });
    if (wl.cases.nodes.length !== 50 || cr.case.cells.nodes.length !== CELLS_PER_CASE) throw new Error("unexpected pre-flight result");
    const worklistBody = () => JSON.stringify({ query: WORKLIST });
    const caseBody = (i: number) => JSON.stringify({ query: CASE_REVIEW, variables: { id: caseIds[i % caseIds.length] } });
    // Warm-up (JIT, connection pool, PostgreSQL buffers), not reported.
    await measure("warm-up", token, caseBody, null);
    const loadBefore = loadavg().map((l) => l.toFixed(1)).join(" ");
    const rows: Row[] = [];
    rows.push(await measure("worklist (50 cases)", token, worklistBody, 100));
    rows.push(await measure(`case review (${CELLS_PER_CASE} cells)`, token, caseBody, 100));
    rows.push(await measure("worklist (50 cases)", token, worklistBody, null));
    rows.push(await measure(`case review (${CELLS_PER_CASE} cells)`, token, caseBody, null));
    console.log(`\nload average before: ${loadBefore}`);
    console.log(`API workers: ${WORKERS}`);
    console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, duration ${DURATION_S} s per run`);
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
    console.log("| query | offered load | p50 ms | p97.5 ms | p99 ms | max ms | throughput req/s | API CPU ms/req | non-2xx | errors |");
    console.log("|---|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) console.log(`| ${r.name} | ${r.rate} | ${r.p50} | ${r.p97_5} | ${r.p99} | ${r.max} | ${r.rps} | ${r.cpuPerReq ?? "?"} | ${r.non2xx} | ${r.errors} |`);
  } finally {
    api.kill("SIGTERM");
    await new Promise((r) => api.once("exit", r));
    await rm(dataDir, { recursive: true, force: true });
    if (!cfg.BENCH_KEEP_DB) await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  }
}

await main();
