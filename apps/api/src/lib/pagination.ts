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

export function pageSize(first: number | null | undefined, defaultSize: number, max: number): number {
  if (first == null) return defaultSize;
  if (!Number.isInteger(first) || first < 1 || first > max) throw badInput(`first must be between 1 and ${max}`);
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

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are uuids: anything else is NOT_FOUND without touching the database (no SQL cast error). */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}
