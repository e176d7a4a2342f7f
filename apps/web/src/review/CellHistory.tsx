"use client";
// The selected cell's history panel: fetched only while it is open, for one cell at a time (a
// 1,000-cell case's page does not carry every cell's full record; CASE_CELLS has the latest AI
// call only). Moving to another cell or saving a decision fetches it again.
import { useCallback } from "react";
import { ErrorBox } from "@/components/ui";
import { ApiError } from "@/lib/errors";
import { gql } from "@/lib/gql";
import { CELL_HISTORY } from "@/lib/operations";
import { useLoader } from "@/lib/useQuery";
import { cellHistory, historyGaps, type CellHistoryData } from "./cellHistory";

export const CELL_HISTORY_ID = "cell-history";

export function CellHistory({ cellId, reviewCount }: { cellId: string; reviewCount: number }) {
  // biome-ignore lint/correctness/useExhaustiveDependencies: reviewCount is the trigger (a decision saved here is a new entry), not a value read
  const load = useCallback(
    () =>
      gql<{ cell: CellHistoryData | null }>(CELL_HISTORY, { id: cellId }).catch((e: unknown) => {
        // The API answers NOT_FOUND for a cell no longer there: said as such, not as an error to retry.
        if (e instanceof ApiError && e.code === "NOT_FOUND") return { cell: null };
        throw e;
      }),
    [cellId, reviewCount],
  );
  // Another cell's entries never stand under this one while it loads; this cell's own stay
  // while a saved decision is fetched (no flicker on every decision).
  const { data, error, loading, reload } = useLoader(load, { resetKey: cellId });
  const record = data?.cell ?? null;
  return (
    <section className="panel" id={CELL_HISTORY_ID} aria-labelledby="cell-history-heading" aria-busy={loading} data-testid="cell-history">
      <h3 id="cell-history-heading" style={{ marginTop: 0 }}>
        History
      </h3>
      {error ? (
        <div className="row" style={{ alignItems: "center" }}>
          <ErrorBox error={`The cell's history could not be loaded: ${error}`} testId="cell-history-error" />
          <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => void reload()} data-testid="cell-history-retry">
            Retry
          </button>
        </div>
      ) : !record ? (
        <p className="muted" role="status" style={{ margin: 0 }} data-testid="cell-history-loading">
          {loading ? "Loading history…" : "This cell is no longer on record."}
        </p>
      ) : (
        <HistoryList data={record} />
      )}
    </section>
  );
}

function HistoryList({ data }: { data: CellHistoryData }) {
  const entries = cellHistory(data);
  const gaps = historyGaps(data);
  return (
    <>
      {entries.length > 0 && (
        <ol className="history" aria-label="Newest first" data-testid="cell-history-list">
          {entries.map((e) => (
            <li key={e.key} data-kind={e.kind} data-marker={e.marker ?? undefined} data-testid="cell-history-entry">
              <span className={`badge ${e.kind}`}>{e.kind === "ai" ? "AI" : "Human"}</span> {e.text}
              <span className="muted"> · {e.when}</span>
            </li>
          ))}
        </ol>
      )}
      {gaps.map((g) => (
        <p key={g} className="muted" style={{ margin: "0.3rem 0 0" }} data-testid="cell-history-gap">
          {g}
        </p>
      ))}
    </>
  );
}
