"use client";
import { memo } from "react";
import { classColour } from "@/charts/scale";
import { percent } from "@/components/ui";
import { ABSOLUTE_CI_NOTE, cellCount, intervalText, share } from "@/lib/format";
import { absoluteCounts, type CountSource, leftOutWarning, rowPercentText, type WhiteCellDifferential } from "@/lib/differential";
import type { DifferentialRow } from "./model";
import { labelName } from "@/lib/labels";

export const Differential = memo(function Differential({
  rows,
  counted,
  total,
  labels,
  summary,
  blood,
}: {
  rows: DifferentialRow[];
  counted: number;
  total: number;
  labels: readonly string[];
  summary: WhiteCellDifferential;
  blood: CountSource;
}) {
  return (
    <>
    <table data-testid="differential" aria-label="Differential count">
      <thead>
        <tr>
          <th>Class</th>
          <th className="num">n</th>
          <th className="num">%</th>
          <th style={{ width: "35%" }}>
            <span className="sr-only">Share</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.label} data-testid={`diff-row-${r.label}`}>
            <td>{labelName(r.label)}</td>
            <td className="num" data-testid={`diff-count-${r.label}`}>
              {r.count}
            </td>
            <td className="num" data-testid={`diff-percent-${r.label}`}>
              {rowPercentText(r)}
            </td>
            <td>
              <div className="diff-bar" style={{ width: `${r.percent ?? 0}%`, background: classColour(labels, r.label) }} />
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <td>White cells</td>
          <td className="num" data-testid="diff-counted">
            {counted}
          </td>
          <td colSpan={2} className="muted">
            of {total} objects (artifacts, platelets, nucleated red cells and unidentified cells are not in the %)
          </td>
        </tr>
      </tfoot>
    </table>
    <CartSummary summary={summary} blood={blood} />
    </>
  );
});

/**
 * The CAR-T figures as the signed report gives them (absolute counts when the case is peripheral
 * blood from smear fields with a white-cell count), and the warnings the report carries: many
 * cells left unidentified, cells from hand-picked crops, too few cells counted.
 */
export function CartSummary({ summary, blood }: { summary: WhiteCellDifferential; blood: CountSource }) {
  return (
    <>
      <LeftOutNotice summary={summary} />
      <CartFigures summary={summary} blood={blood} />
    </>
  );
}

/** Said even when nothing was counted: all cells left unidentified is the worst case of it. */
function LeftOutNotice({ summary }: { summary: WhiteCellDifferential }) {
  const leftOut = leftOutWarning(summary.excluded, summary.counted);
  if (!leftOut) return null;
  return (
    <p className="notice" data-testid="diff-left-out" role="status">
      {leftOut.count} of {leftOut.of} white cells and unidentified cells ({leftOut.percent}%) are left unidentified, out of the count: if they are not spread like the counted
      cells (damaged CAR-T cells, say), every share is biased.
    </p>
  );
}

function CartFigures({ summary, blood }: { summary: WhiteCellDifferential; blood: CountSource }) {
  if (summary.counted === 0) {
    return (
      <p className="notice" data-testid="diff-not-evaluable">
        Not evaluable: no white cells counted.
      </p>
    );
  }
  const ci = summary.cartPercentCi95;
  const absolute = absoluteCounts(blood, summary);
  return (
    <>
      <p data-testid="diff-cart-summary" style={{ margin: "0.4rem 0" }}>
        {summary.cartAssessed ? (
          <>
            CAR-T cells <strong>{share(summary.cartPercent, summary.cartCount)}</strong> of white cells{intervalText(ci, percent)}
          </>
        ) : (
          <span data-testid="diff-cart-not-assessed">
            CAR-T cells <strong>not assessed</strong>: a model that classified these cells has no CAR-T class, so it would call a CAR-T cell a lymphocyte
            {summary.cartCount > 0 ? ` (${summary.cartCount} labelled CAR-T by a reviewer are in the rows above)` : ""}
          </span>
        )}
        {summary.cartPercentOfLymphocytes !== null ? `, ${share(summary.cartPercentOfLymphocytes, summary.cartCount)} of lymphocytes` : ""}; all lymphocytes (CAR-T cells included){" "}
        {percent(summary.lymphocytePercent)}
        {summary.nrbcPer100Wbc ? `; ${summary.nrbcPer100Wbc} nucleated red cells per 100 white cells` : ""}.
      </p>
      {/* The lymphocytes per µL are signed in both cases (report page), so shown before signing. */}
      {absolute && absolute.cartPerUl === null && (
        <p data-testid="diff-absolute" style={{ margin: "0.4rem 0" }}>
          Lymphocytes (morphology estimate): <strong>{cellCount(absolute.lymphocytesPerUl)}/µL</strong>, from WBC {cellCount(absolute.wbcPerUl)}/µL.
        </p>
      )}
      {absolute && absolute.cartPerUl !== null && (
        <p data-testid="diff-absolute" style={{ margin: "0.4rem 0" }}>
          Absolute CAR-T count (morphology estimate): <strong>{cellCount(absolute.cartPerUl)}/µL</strong>
          {intervalText(absolute.cartPerUlCi95, cellCount, ABSOLUTE_CI_NOTE)} (lymphocytes {cellCount(absolute.lymphocytesPerUl)}/µL), from WBC{" "}
          {cellCount(absolute.wbcPerUl)}/µL.
        </p>
      )}
      {blood.fromCrops ? (
        <p className="notice" data-testid="diff-crops-warning" style={{ margin: "0.4rem 0" }}>
          Cells uploaded as crops were chosen by a person, not counted across a smear: these shares are not a differential count
          {blood.wbcCount !== null ? ", and no absolute counts are given" : ""}.
        </p>
      ) : (
        !absolute &&
        blood.wbcCount !== null && (
          <p className="muted" data-testid="diff-no-absolute" style={{ margin: "0.4rem 0" }}>
            No absolute counts: they are given for peripheral blood only, and the specimen is {blood.specimen ? `“${blood.specimen}”` : "not recorded"}.
          </p>
        )
      )}
      {summary.belowMinimum && (
        <p className="notice" data-testid="diff-below-minimum" role="status">
          Only {summary.counted} white cell{summary.counted === 1 ? "" : "s"} counted: a manual differential counts at least 100, and{" "}
          {summary.cartAssessed
            ? <>the CAR-T share{absolute ? " and count are" : " is"} imprecise{intervalText(ci, percent)}</>
            : `the percentages${absolute ? " and lymphocytes per µL are" : " are"} imprecise`}
          .
        </p>
      )}
    </>
  );
}
