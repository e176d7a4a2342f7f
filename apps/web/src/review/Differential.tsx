"use client";
import { memo } from "react";
import { classColour } from "@/charts/scale";
import { percent } from "@/components/ui";
import type { DifferentialRow } from "./model";
import { labelName } from "@/lib/labels";

export const Differential = memo(function Differential({
  rows,
  counted,
  total,
  labels,
}: {
  rows: DifferentialRow[];
  counted: number;
  total: number;
  labels: readonly string[];
}) {
  return (
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
              {r.percent === null ? "excl." : percent(r.percent)}
            </td>
            <td>
              <div className="diff-bar" style={{ width: `${r.percent ?? 0}%`, background: classColour(labels, r.label) }} />
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <td>Counted</td>
          <td className="num" data-testid="diff-counted">
            {counted}
          </td>
          <td colSpan={2} className="muted">
            of {total} objects (artifacts excluded)
          </td>
        </tr>
      </tfoot>
    </table>
  );
});
