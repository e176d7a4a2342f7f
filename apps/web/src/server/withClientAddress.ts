import type { IncomingMessage, ServerResponse } from "node:http";
import { clientAddress } from "./clientAddress";

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Wraps Next's request handler for scripts/serve.ts: the request reaches Next with
 * X-Forwarded-For set to the one address clientAddress() derives from the socket, and a handler
 * failure answers 500 instead of leaving the connection hanging.
 */
export function withClientAddress(handle: Handler) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.headers["x-forwarded-for"] = clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"]);
    handle(req, res).catch((error: unknown) => {
      console.error("request failed", error);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("Internal server error");
    });
  };
}
