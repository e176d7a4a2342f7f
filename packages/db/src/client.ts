import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type { PrismaClient };

export interface ClientOptions {
  /** Pool size; PGlite's socket server serialises everything, so small pools suffice there. */
  max?: number;
}

/** A Prisma client over node-postgres (Prisma 7's Rust-free client: no engine binary). */
export function createPrismaClient(connectionString: string, options: ClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}

let singleton: { url: string; client: PrismaClient } | undefined;

/** One client per process (each owns a connection pool). */
export function getPrismaClient(connectionString: string): PrismaClient {
  if (singleton && singleton.url !== connectionString) {
    throw new Error("getPrismaClient: already connected to another database in this process");
  }
  singleton ??= { url: connectionString, client: createPrismaClient(connectionString) };
  return singleton.client;
}
