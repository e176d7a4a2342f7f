// What a snapshot's stale items are (staleItems.ts), in words: pure, so that the dashboard
// (@rcmnet/api/noLongerHeld) words its counts as the API's refusals do.

/**
 * How every refusal and count of such items says what they are: "relabelled" alone sent readers
 * looking for an amendment's new label when the cause was a void or a retraction.
 */
export function noLongerHeld(n: number): string {
  return n === 1
    ? "no longer holds the label it was frozen with (relabelled by an amendment, its image voided, or its case's report retracted)"
    : "no longer hold the label they were frozen with (relabelled by an amendment, their image voided, or their case's report retracted)";
}

/** "N cells of snapshot X no longer hold …": how every refusal to train on a stale snapshot begins. */
export function snapshotCellsNoLongerHeld(n: number, snapshotName: string): string {
  return `${n} cell${n === 1 ? "" : "s"} of snapshot ${snapshotName} ${noLongerHeld(n)}`;
}
