// The API as an express app: GraphQL at /graphql, REST beside it for uploads, images and the
// audit CSV, and an unauthenticated /health. Used by server.ts and by the tests (createTestApi).
import express, { type ErrorRequestHandler, type Request } from "express";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import type { BlobStore, PrismaClient } from "@rcmnet/db";
import type { Env } from "./env.ts";
import { createLogger, describeError, type Logger } from "./log.ts";
import { buildContext, type Context, type Deps } from "./context.ts";
import { buildSchema } from "./schema.ts";
import { makeFormatError } from "./errors.ts";
import { queryCostLimit, queryShapeLimit } from "./limits.ts";
import { restRouter } from "./rest/router.ts";
import { tokenRateLimit } from "./auth/tokenRateLimit.ts";
import { nulTextPlugin, refuseNulQuery } from "./lib/nulText.ts";
import { hostAllowed } from "./lib/hostCheck.ts";

export interface AppDeps {
  prisma: PrismaClient;
  blobs: BlobStore;
  env: Env;
  log?: Logger;
}

export interface App {
  app: express.Express;
  stop(): Promise<void>;
}

/** Logs one line per GraphQL operation: name, user login, duration, error codes. No variables. */
function requestLogPlugin(log: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, errors }) {
          log.info("graphql", {
            op: operationName ?? "anonymous",
            user: contextValue.user?.login ?? null,
            ms: Math.round(performance.now() - started),
            ...(errors?.length ? { codes: errors.map((e) => e.extensions?.code ?? "INTERNAL_SERVER_ERROR") } : {}),
          });
        },
      };
    },
  };
}

export async function createApp(appDeps: AppDeps): Promise<App> {
  const log = appDeps.log ?? createLogger(appDeps.env.logLevel);
  const deps: Deps = { prisma: appDeps.prisma, blobs: appDeps.blobs, env: appDeps.env, log };
  const { limits } = deps.env;
  const { schema } = await buildSchema();

  const apollo = new ApolloServer<Context>({
    schema,
    validationRules: [queryShapeLimit(limits.maxQueryDepth, limits.maxQueryFields), queryCostLimit(limits.maxQueryCost)],
    parseOptions: { maxTokens: limits.maxQueryTokens },
    includeStacktraceInErrorResponses: false,
    // server.ts owns shutdown; Apollo's own signal handler races it and leaves the process hanging.
    stopOnTerminationSignals: false,
    introspection: deps.env.nodeEnv !== "production",
    // With introspection off, validation errors must not spell the schema out either ("Did you
    // mean …?" suggestions would list field names to anyone who guesses).
    hideSchemaDetailsFromClientErrors: deps.env.nodeEnv === "production",
    formatError: makeFormatError((err) => log.error("internal error", describeError(err)), { hideSchema: deps.env.nodeEnv === "production" }),
    // No HTTP caching of clinical data; the cache-control plugin also costs time on every field.
    plugins: [requestLogPlugin(log), ApolloServerPluginCacheControlDisabled(), nulTextPlugin()],
  });
  await apollo.start();

  const app = express();
  app.disable("x-powered-by");
  // The web app proxies to the API from the same host; trust its X-Forwarded-For only.
  app.set("trust proxy", "loopback");

  // Before anything else, /health and rate limits included: a request must name this server
  // (loopback, API_ALLOWED_HOSTS, a one-address API_HOST). A page on another site whose name was rebound to this machine sends its
  // own name (DNS rebinding, lib/hostCheck.ts). The raw header, never req.hostname: with the
  // proxy trusted that reads X-Forwarded-Host, which such a page, same-origin by then, may set.
  app.use((req, res, next) => {
    if (hostAllowed(req.headers.host, deps.env.allowedHosts)) return next();
    log.info("request refused: host not allowed", { host: String(req.headers.host ?? "").slice(0, 100), path: req.path.slice(0, 100) });
    res.status(421).json({
      errors: [
        {
          message: "This API does not answer to that host name. Reach it as localhost or 127.0.0.1, or add the name to API_ALLOWED_HOSTS.",
          extensions: { code: "FORBIDDEN" },
        },
      ],
    });
  });

  app.get("/health", async (_req, res) => {
    try {
      await deps.prisma.$queryRaw`SELECT 1`;
      res.json({ status: "ok", database: "up" });
    } catch {
      res.status(503).json({ status: "degraded", database: "down" });
    }
  });

  const context = ({ req }: { req: Request }) => buildContext(deps, req);
  app.use(tokenRateLimit(limits.requestsPerTokenPerMinute, deps));

  app.use(
    "/graphql",
    express.json({ limit: limits.maxBodyBytes }),
    expressMiddleware(apollo, { context }),
  );
  app.use(refuseNulQuery, restRouter(deps));

  app.use((_req, res) => {
    res.status(404).json({ errors: [{ message: "Not found", extensions: { code: "NOT_FOUND" } }] });
  });

  // Body-parser and stray errors: a clear JSON error, never an HTML page with a stack trace.
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const e = err as { type?: string; status?: number };
    if (e.type === "entity.too.large") {
      res.status(413).json({ errors: [{ message: `Request body larger than ${limits.maxBodyBytes} bytes`, extensions: { code: "BAD_USER_INPUT" } }] });
    } else if (e.type === "entity.parse.failed" || e.status === 400) {
      res.status(400).json({ errors: [{ message: "Malformed request body", extensions: { code: "BAD_USER_INPUT" } }] });
    } else {
      log.error("unhandled request error", describeError(err));
      res.status(500).json({ errors: [{ message: "Internal error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
    }
  };
  app.use(onError);

  return { app, stop: () => apollo.stop() };
}
