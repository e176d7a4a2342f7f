// Where keyboard focus goes back to after a page's action (useAction), without a DOM so that the
// choice can be tested. The button that started it is the place to go on from; an action often
// removes it (Approve leaves the pending list, Unlock, Void image, Cancel on a queued run), and
// focus would then fall to the top of the page (WCAG 2.4.3). Its nearest surviving container
// keeps the user where they were: the next Tab goes on from there.

/** The part of an element the choice reads (an HTMLElement is one). */
export interface FocusNode<T> {
  isConnected: boolean;
  tagName: string;
  parentElement: T | null;
}

// A table's cells and row groups: a cell is no item of the list and a row group is invisible; the
// row (its item) if it stayed, else the table itself, is where to go on from.
const TABLE_PARTS = new Set(["TBODY", "THEAD", "TFOOT", "TD", "TH"]);

/** The element's containers, nearest first, up to (not including) the body: taken while it is in the page. */
export function containersOf<T extends FocusNode<T>>(el: T): T[] {
  const chain: T[] = [];
  for (let p = el.parentElement; p && p.tagName !== "BODY" && p.tagName !== "HTML"; p = p.parentElement)
    chain.push(p);
  return chain;
}

/** The element if it is still in the page, else its nearest container still there (not a cell or row group); null: none. */
export function focusReturnTarget<T extends FocusNode<T>>(el: T, containers: readonly T[]): T | null {
  if (el.isConnected) return el;
  return containers.find((c) => c.isConnected && !TABLE_PARTS.has(c.tagName)) ?? null;
}
