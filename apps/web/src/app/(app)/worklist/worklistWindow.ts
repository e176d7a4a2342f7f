// The worklist's filter and the window of rows it keeps current, apart from the component so that
// they are tested without a browser.
import { isSignedStatus } from "@rcmnet/api/caseStatus";

export const CASE_STATUSES = ["RECEIVED", "ANALYZING", "IN_REVIEW", "SIGNED_OUT", "AMENDED"] as const;

/**
 * The work still to do: every status that is not signed (the API's rule, not a copy). Signed and
 * amended cases never leave the list, and STAT ones sort first: shown by default, weeks of signed
 * history would fill the first pages above a new routine case waiting for review.
 */
export const OPEN_STATUSES: readonly string[] = CASE_STATUSES.filter((s) => !isSignedStatus(s));

/** The status filter's choice for the open statuses: the worklist's default. "" is All. */
export const OPEN = "OPEN";

/** The API filter's status list for a choice of the status filter (OPEN, "" for all, or one status). */
export function statusFilter(choice: string): { status?: string[] } {
  if (choice === OPEN) return { status: [...OPEN_STATUSES] };
  return choice ? { status: [choice] } : {};
}

export interface Connection<T> {
  nodes: T[];
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

/**
 * The first `size` rows of the list, read as pages of at most `maxPage` (the API's largest), each
 * after the last row of the one before. Every poll reads the whole window this way, so every row
 * shown is current, however many "Show more" clicks made the window. (Polling only the first
 * `maxPage` rows and keeping the pages after them as loaded lost rows: a new STAT case pushed the
 * polled window's last row out of it, and that row was before the cursor the next page had been
 * loaded after, so it was in neither.) A row that moves while the pages are read may come twice
 * (kept once) or be missed until the next poll; none stays lost. Rows pushed past the window by
 * new ones are behind "Show more", as within the first page.
 */
export async function loadWindow<T extends { id: string }>(
  size: number,
  maxPage: number,
  fetchPage: (first: number, after: string | null) => Promise<Connection<T>>,
): Promise<{ nodes: T[]; hasNextPage: boolean }> {
  const nodes: T[] = [];
  const seen = new Set<string>();
  let after: string | null = null;
  let hasNextPage = true;
  while (nodes.length < size && hasNextPage) {
    const page = await fetchPage(Math.min(maxPage, size - nodes.length), after);
    for (const n of page.nodes) {
      if (seen.has(n.id)) continue;
      seen.add(n.id);
      nodes.push(n);
    }
    hasNextPage = page.pageInfo.hasNextPage && page.nodes.length > 0;
    if (page.pageInfo.endCursor === null) break;
    after = page.pageInfo.endCursor;
  }
  return { nodes, hasNextPage };
}
