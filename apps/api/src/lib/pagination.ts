// Cursor pagination for every list: opaque cursors (base64url of the row's key), `first` capped.
import { badInput } from "../errors.ts";

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface PageInfo {
  endCursor: string | null;
  hasNextPage: boolean;
}

export function encodeCursor(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, "base64url").toString("utf8");
  if (!key || encodeCursor(key) !== cursor) throw badInput("Invalid cursor");
  return key;
}

export interface PageLimit {
  /** Page size when `first` is not given. */
  default: number;
  max: number;
}

/**
 * Every paginated field's page sizes, keyed "Type.field": the resolvers read them here and so
 * does the query cost rule (limits.ts), which multiplies nested pages by these sizes.
 */
export const PAGE_LIMITS = {
  "Query.cases": { default: 50, max: 200 },
  "Case.cells": { default: 200, max: 1000 },
  "Query.users": { default: 100, max: 500 },
  "Query.auditTrail": { default: 100, max: 500 },
  "Query.datasetSnapshots": { default: 20, max: 100 },
  "Query.trainingRuns": { default: 20, max: 100 },
  "Query.modelVersions": { default: 20, max: 100 },
  "Query.modelPromotions": { default: 20, max: 100 },
} satisfies Record<string, PageLimit>;

export function pageSize(first: number | null | undefined, limit: PageLimit): number {
  if (first == null) return limit.default;
  if (!Number.isInteger(first) || first < 1 || first > limit.max) throw badInput(`first must be between 1 and ${limit.max}`);
  return first;
}

/** Given rows fetched with take = size + 1, the page and its pageInfo. */
export function toConnection<T>(rows: T[], size: number, keyOf: (row: T) => string): { nodes: T[]; pageInfo: PageInfo } {
  const nodes = rows.slice(0, size);
  const last = nodes[nodes.length - 1];
  return {
    nodes,
    pageInfo: { endCursor: last ? encodeCursor(keyOf(last)) : null, hasNextPage: rows.length > size },
  };
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Ids are uuids as the API writes them (lower case): anything else is NOT_FOUND without touching
 * the database (no SQL cast error). Upper case too: PostgreSQL would read "ABC…" as the same
 * uuid, and every comparison of ids as strings (an admin's own account, a list's duplicates, an
 * audit entity id) would then see two different ids.
 */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/**
 * A prefix for Prisma's `startsWith`, which PostgreSQL runs as LIKE 'x%' without escaping the
 * pattern: "_" (a character of accessions and actions) would match any character and "%" any
 * text. Escaped with LIKE's default escape character, the prefix matches only itself.
 */
export function literalPrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, "\\$&");
}
