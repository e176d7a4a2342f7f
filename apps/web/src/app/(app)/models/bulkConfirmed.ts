/**
 * How many of a TEST part's labels are bulk confirmations of AI calls (confirmed several at once,
 * not decided cell by cell), beside its TEST cell count: such a label is weaker evidence, and it
 * favours the model that made the call (usually the champion of the time). `bulk` null: not
 * recorded (a snapshot taken before it was, or a proposal filed before).
 */
export function bulkConfirmedText(bulk: number | null, testCells: number | null): string {
  if (bulk === null) return "TEST labels confirmed in bulk: not recorded";
  const of = testCells === null ? `${bulk}` : `${bulk} of ${testCells}`;
  const labels = (testCells ?? bulk) === 1 ? "label" : "labels";
  return `${of} TEST ${labels} ${bulk === 1 ? "is a bulk confirmation of an AI call" : "are bulk confirmations of AI calls"}`;
}

/** Why a share above none matters, said once where the count is shown on its own. */
export const BULK_CONFIRMED_CAVEAT =
  "weaker evidence than labels decided cell by cell: they favour the model that made the calls";
