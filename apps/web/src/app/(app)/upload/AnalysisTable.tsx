"use client";
// The upload page's one list of the case's images: each image's number (as the review page numbers
// it), file name and analysis, with "Void image" on the row of each image the technician may void,
// and voided images struck through with who voided them, when and why.
import type { ReactNode } from "react";
import { type NumberedImage, voidedLine } from "@/review/caseImages";
import type { AnalysisRow } from "./imageRows";
import { slideStatusText } from "./slideStatus";

/** One image's analysis as the CASE_PROGRESS poll reads it. */
export interface PolledSlide {
  slideId: string;
  status: string;
  error: string | null;
  progress: number;
  cellCount: number;
  predictedCellCount: number;
  job: {
    step: string | null;
    status: string;
    error: string | null;
    attempts: number;
    maxAttempts: number;
  } | null;
}

const COLUMNS = ["Image", "Status", "Cells", "Predicted", "Step"] as const;

/**
 * voidTargets: the image each row's "Void image" voids, by slide id (voidOffer); voidButton draws
 * it (useVoidImage). waitingSince and now: how long each image has waited for an analyser.
 */
export function AnalysisTable({
  rows,
  voidTargets,
  voidButton,
  waitingSince,
  now,
}: {
  rows: readonly AnalysisRow<PolledSlide>[];
  voidTargets: ReadonlyMap<string, NumberedImage>;
  voidButton: (image: NumberedImage) => ReactNode;
  waitingSince: Readonly<Record<string, number>>;
  now: number;
}) {
  // The void column only where some row has the button: a case locked for the technician says why once, above.
  const voidColumn = voidTargets.size > 0;
  return (
    <table style={{ marginTop: "0.5rem" }}>
      <thead>
        <tr>
          {COLUMNS.map((c) => (
            <th key={c} className={c === "Cells" || c === "Predicted" ? "num" : undefined}>
              {c}
            </th>
          ))}
          {voidColumn && (
            <th>
              <span className="sr-only">Void</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const name = r.image?.originalName && (
            <>
              {" "}
              <bdi className="mono" data-testid="analysis-file-name">
                {r.image.originalName}
              </bdi>
            </>
          );
          // Not known until the header has loaded the image (just uploaded): no number rather than a guess.
          const number = r.number === null ? "#…" : `#${r.number}`;
          if (r.kind === "voided") {
            return (
              <tr key={r.slideId} className="muted" data-testid="analysis-voided" data-slide-id={r.slideId}>
                <td data-testid="analysis-image">
                  <s>
                    {number}
                    {name}
                  </s>
                </td>
                <td colSpan={COLUMNS.length - 1 + (voidColumn ? 1 : 0)} data-testid="analysis-voided-line">
                  {voidedLine(r.image)}
                </td>
              </tr>
            );
          }
          const s = r.polled;
          const target = voidTargets.get(r.slideId);
          return (
            <tr key={r.slideId} data-testid="analysis-slide" data-status={s.status} data-slide-id={r.slideId}>
              <td data-testid="analysis-image">
                {number}
                {name}
              </td>
              <td>
                {s.status}
                {s.error && <div className="error">{s.error}</div>}
                {s.status === "DONE" && s.cellCount === 0 && (
                  <div className="notice" data-testid="analysis-no-cells">
                    No white cells found. The detector looks for blue-violet nuclei (Romanowsky or Giemsa
                    stain) that fill a visible part of the field: check stain and focus, crop closer to the
                    cells, or upload them as single-cell crops.
                  </div>
                )}
              </td>
              <td className="num" data-testid="analysis-cells">
                {s.cellCount}
              </td>
              <td className="num">{s.predictedCellCount}</td>
              <td>
                <progress
                  max={1}
                  value={s.progress}
                  aria-label={`Analysis of image ${r.number ?? r.image?.originalName ?? ""}`.trim()}
                  style={{ width: 120 }}
                />{" "}
                <span data-testid="analysis-step">
                  {slideStatusText({ ...s, waitingSince: waitingSince[s.slideId] ?? null }, now)}
                </span>
              </td>
              {voidColumn && <td>{target && voidButton(target)}</td>}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
