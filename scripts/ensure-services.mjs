// Makes sure what the test suite talks to is there: a PostgreSQL server and a Chromium.
// On a fresh Debian machine as root it installs them with apt (the only package source this
// project may assume); elsewhere it explains what is missing and stops.
import { execSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";

const isRoot = process.getuid?.() === 0;
const log = (msg) => console.log(`[ensure-services] ${msg}`);

function sh(cmd) {
  log(`$ ${cmd}`);
  execSync(cmd, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

function canConnect(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1500 });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

let aptUpdated = false;
function aptInstall(packages) {
  if (!isRoot) throw new Error(`missing: ${packages}. Install it (Debian: apt-get install -y ${packages}) and retry.`);
  if (!aptUpdated) sh("apt-get update -qq");
  aptUpdated = true;
  sh(`apt-get install -y -qq --no-install-recommends ${packages}`);
}

async function ensurePostgres() {
  const url = new URL(process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres");
  const host = url.hostname;
  const port = Number(url.port || 5432);
  if (await canConnect(host, port)) return log(`PostgreSQL answers on ${host}:${port}`);
  if (process.env.TEST_DATABASE_URL) throw new Error(`TEST_DATABASE_URL ${host}:${port} does not answer`);
  if (!existsSync("/etc/postgresql")) aptInstall("postgresql");
  const version = execSync("ls /etc/postgresql").toString().trim().split("\n")[0];
  sh(`pg_ctlcluster --skip-systemctl-redirect ${version} main start || true`);
  for (let i = 0; i < 30 && !(await canConnect(host, port)); i++) await new Promise((r) => setTimeout(r, 500));
  if (!(await canConnect(host, port))) throw new Error("PostgreSQL did not start");
  // Trust auth for local TCP connections is what the tests expect (a throwaway CI server).
  const probe = spawnSync("psql", ["-h", host, "-p", String(port), "-U", "postgres", "-c", "select 1", "-tA"]);
  if (probe.status !== 0) {
    const hba = execSync(`ls /etc/postgresql/${version}/main/pg_hba.conf`).toString().trim();
    sh(`sed -i -E 's/^(host\\s+all\\s+all\\s+127\\.0\\.0\\.1\\/32\\s+)\\S+/\\1trust/' ${hba}`);
    sh(`pg_ctlcluster --skip-systemctl-redirect ${version} main reload`);
  }
  log(`PostgreSQL started on ${host}:${port}`);
}

function ensureChromium() {
  if (existsSync("/usr/bin/chromium")) return log("Chromium present");
  aptInstall("chromium");
}

try {
  await ensurePostgres();
  ensureChromium();
} catch (err) {
  console.error(`[ensure-services] ${err.message}`);
  process.exit(1);
}
