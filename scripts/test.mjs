// `npm test`: the whole suite — unit, integration on real PostgreSQL, model tests on the real
// model code, and Playwright journeys in a real Chromium — after making sure the services exist.
import { spawnSync } from "node:child_process";

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run("node", ["scripts/ensure-services.mjs"]);
// One package at a time: the machine has 2 cores and the model and e2e suites use both.
run("npx", ["turbo", "run", "typecheck", "--output-logs=errors-only"]);
run("npx", ["tsc", "-p", "scripts", "--noEmit"]);
run("npx", ["turbo", "run", "lint", "--output-logs=errors-only"]);
run("npx", ["turbo", "run", "test", "--concurrency=1", ...process.argv.slice(2)]);
