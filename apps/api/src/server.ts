// The HTTP API process: `tsx src/server.ts` (npm start -w @rcmnet/api).
import { join } from "node:path";
import { BlobStore, createPrismaClient, openDatabase } from "@rcmnet/db";
import { loadEnv } from "./env.ts";
import { createApp } from "./app.ts";
import { createLogger, describeError } from "./log.ts";

const env = loadEnv();
const log = createLogger(env.logLevel);

// Normally the launcher passes DATABASE_URL (its embedded server or a real one); standalone, the
// API opens the embedded database itself.
const db = await openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir });
const prisma = createPrismaClient(db.url);
const blobs = new BlobStore(join(env.dataDir, "blobs"));
const { app, stop } = await createApp({ prisma, blobs, env, log });

const server = app.listen(env.port, env.host, () => {
  log.info("api listening", { url: `http://${env.host}:${env.port}/graphql`, embeddedDatabase: db.embedded });
});
server.on("error", (err) => {
  log.error("api failed to listen", describeError(err));
  process.exit(1);
});

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  log.info("api shutting down", { signal });
  server.close();
  // Idle keep-alive sockets would hold close() open for seconds.
  server.closeIdleConnections();
  await stop();
  await prisma.$disconnect();
  await db.close();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
