/**
 * Production server for the dashboard: what `next start` does, plus a client address the API
 * can trust. Every request's X-Forwarded-For is replaced by the one address clientAddress()
 * derives from the socket (src/server/clientAddress.ts says why `next start` alone lets a client
 * spoof it), so the API's sign-in limit per address counts real clients.
 *
 * Usage (from apps/web, after `next build`): tsx scripts/serve.ts [--port 3000] [--hostname 0.0.0.0]
 */
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import next from "next";
import { withClientAddress } from "../src/server/withClientAddress";

const { values } = parseArgs({ options: { port: { type: "string", short: "p" }, hostname: { type: "string", short: "H" } } });
const port = Number(values.port ?? process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`--port must be a TCP port number, got ${values.port ?? process.env.PORT}`);
const hostname = values.hostname;

const app = next({ dev: false, dir: new URL("..", import.meta.url).pathname, ...(hostname ? { hostname } : {}), port });
const handle = app.getRequestHandler();
await app.prepare();

const server = createServer(withClientAddress(handle));
server.listen(port, hostname, () => console.log(`dashboard listening on http://${hostname ?? "localhost"}:${port}`));

// Stop taking connections, let requests in flight finish, and do not wait on idle keep-alives.
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5_000).unref();
  });
