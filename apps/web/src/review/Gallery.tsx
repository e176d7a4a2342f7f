"use client";
// CellaVision-style gallery: one group per current class, least-certain cells first. Each tile
// shows the AI's label and confidence (purple, "AI") apart from the human decision (green).
import { memo } from "react";
import { classColour } from "@/charts/scale";
import { CellImage } from "./CellImage";
import { thresholdPercent } from "@/lib/format";
import {
  aiPercentText,
  bulkConfirmTitle,
  bulkExcludedText,
  type BulkPolicy,
  groupCountText,
  groupSummary,
  isBulkExcluded,
  isLowConfidence,
  isWithdrawn,
  type Group,
  type ReviewCell,
} from "./model";
import { labelName } from "@/lib/labels";

const Tile = memo(function Tile({
  cell,
  current,
  saving,
  gradcam,
  minConfidence,
  onSelect,
}: {
  cell: ReviewCell;
  current: boolean;
  saving: boolean;
  gradcam: boolean;
  minConfidence: number;
  onSelect: (id: string) => void;
}) {
  const ai = cell.ai;
  // Percentages are rounded down (aiPercentText), so a flagged 79.6% never reads as 80%.
  const low = isLowConfidence(cell, minConfidence);
  // Decided, but that decision was withdrawn by a retraction: it needs a decision again (or its image voided).
  const withdrawn = isWithdrawn(cell);
  return (
    <button
      type="button"
      className={`tile${cell.decision ? " reviewed" : ""}${low ? " low" : ""}`}
      aria-current={current ? "true" : undefined}
      aria-label={`Cell, AI ${ai ? `${ai.abstained ? "abstained" : labelName(ai.label)} ${aiPercentText(ai.confidence)}${low ? " (low confidence)" : ""}` : "no prediction"}, ${cell.decision ? `human ${labelName(cell.decision.label)}` : "not reviewed"}${withdrawn ? `, withdrawn by the retraction signed as version ${cell.withdrawnInVersion}` : ""}`}
      data-testid="cell-tile"
      data-cell-id={cell.id}
      data-label={cell.currentLabel}
      data-reviewed={cell.decision ? "true" : "false"}
      data-low-confidence={low ? "true" : "false"}
      data-withdrawn={withdrawn ? "true" : "false"}
      data-current={current ? "true" : "false"}
      onClick={() => onSelect(cell.id)}
      // Keyboard focus stays on the page so the shortcuts keep working after a click.
      onMouseDown={(e) => e.preventDefault()}
      tabIndex={-1}
    >
      <CellImage cell={cell} gradcam={gradcam && current} size={88} alt="" />
      <div className="ai-line" title={low ? `AI prediction, under ${thresholdPercent(minConfidence)} confidence: look closely` : "AI prediction"}>
        {low && <span aria-hidden="true">⚠ </span>}
        AI: {ai ? (ai.abstained ? `abstained (${labelName(ai.label)})` : labelName(ai.label)) : "—"} {ai ? aiPercentText(ai.confidence) : ""}
      </div>
      {cell.decision && withdrawn ? (
        <div className="pending" title={`Decided ${labelName(cell.decision.label)} by ${cell.decision.reviewer}; withdrawn by the retraction signed as version ${cell.withdrawnInVersion}: decide it again, or void its image`}>
          ↺ withdrawn (v{cell.withdrawnInVersion})
        </div>
      ) : cell.decision ? (
        <div className="human-line" title={`Human decision by ${cell.decision.reviewer}`}>
          ✓ {labelName(cell.decision.label)}
        </div>
      ) : (
        <div className="pending">{saving ? "saving…" : "not reviewed"}</div>
      )}
    </button>
  );
});

export const Gallery = memo(function Gallery({
  groups,
  labels,
  cursor,
  saving,
  gradcam,
  disabled,
  policy,
  onSelect,
  onBulkConfirm,
  emptyText,
}: {
  groups: Group[];
  labels: readonly string[];
  cursor: string | null;
  saving: ReadonlySet<string>;
  gradcam: boolean;
  disabled: boolean;
  /**
   * The API's review policy: AI calls under its confidence are flagged and not bulk-confirmable,
   * and calls of its excluded labels (CAR-T) are confirmed one by one.
   */
  policy: BulkPolicy;
  onSelect: (id: string) => void;
  onBulkConfirm: (ids: string[]) => void;
  /** What to say when there are no cells (why depends on the case's images). */
  emptyText: string;
}) {
  if (!groups.length) return <div className="empty" data-testid="gallery-empty">{emptyText}</div>;
  return (
    <div data-testid="gallery">
      {groups.map((g) => {
        // The heading says what is left to do; the button only what bulk confirm takes, so that
        // "0 to confirm" never reads as "this class is done".
        const summary = groupSummary(g, policy, saving);
        const confirmable = summary.confirmable;
        const counts = groupCountText({ ...summary, withdrawn: g.cells.filter(isWithdrawn).length });
        const { minConfidence } = policy;
        return (
          <section key={g.label} className="gallery-group" data-testid={`group-${g.label}`} aria-label={`${labelName(g.label)}: ${counts}`}>
            <h3>
              <span className="diff-bar" style={{ width: 12, height: 12, display: "inline-block", background: classColour(labels, g.label) }} />
              {labelName(g.label)}{" "}
              <span className="muted" data-testid={`group-counts-${g.label}`}>
                ({counts})
              </span>
              {isBulkExcluded(g.label, policy) ? (
                // No bulk action for such a class, whatever the AI's confidence (the API refuses
                // it too): the heading says why, while cells of it are left to decide.
                summary.excluded > 0 && (
                  <span
                    className="muted"
                    style={{ marginLeft: "0.5rem" }}
                    data-testid={`bulk-excluded-${g.label}`}
                    title="Never confirmed in bulk, however confident the AI: the report's CAR-T count rests on each of these calls, and CAR-T cells look much like other lymphocytes, so each is confirmed by looking at that cell"
                  >
                    {bulkExcludedText(g.label)}
                  </span>
                )
              ) : (
                <button
                  type="button"
                  disabled={disabled || confirmable.length === 0}
                  // A click leaves focus on the page, so Enter afterwards confirms a cell, not this again.
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => onBulkConfirm(confirmable)}
                  data-testid={`bulk-confirm-${g.label}`}
                  title={bulkConfirmTitle(minConfidence)}
                >
                  Confirm {confirmable.length} confident
                </button>
              )}
            </h3>
            <div className="gallery-grid">
              {g.cells.map((c) => (
                <Tile key={c.id} cell={c} current={c.id === cursor} saving={saving.has(c.id)} gradcam={gradcam} minConfidence={policy.minConfidence} onSelect={onSelect} />
              ))}
            </div>
          </section>
        );
      })}
    </div>
  );
});
