"use client";
// SVG charts drawn here (no chart library or CDN): confusion matrix and training curves.
import { accuracyDomain, confusionCellOpacity, extent, linePath, linearScale, normaliseRows } from "./scale";
import { labelName } from "@/lib/labels";

/**
 * Rows are the true `labels`, columns the `columns` predicted (by default the same labels; the
 * API adds "unidentified" for abstentions, which must show, not fall off the edge).
 */
export function ConfusionMatrix({
  labels,
  columns = labels,
  matrix,
  title,
  testId = "confusion-matrix",
}: { labels: string[]; columns?: string[]; matrix: number[][]; title: string; testId?: string }) {
  const n = labels.length;
  const k = columns.length;
  if (!n || matrix.length !== n || matrix.some((row) => row.length !== k)) return <p className="muted">No confusion matrix recorded.</p>;
  const norm = normaliseRows(matrix);
  const cell = Math.max(22, Math.min(44, 360 / Math.max(n, k)));
  const left = 110;
  const top = 100;
  const size = cell * k;
  const height = cell * n;
  return (
    <>
      <svg
        viewBox={`0 0 ${left + size + 10} ${top + height + 30}`}
        width="100%"
        style={{ maxWidth: left + size + 10 }}
        role="img"
        aria-label={`${title}: rows are true labels, columns predicted`}
        data-testid={testId}
      >
        <text x={left + size / 2} y={14} textAnchor="middle" fontSize={12} fontWeight={600}>
          {title}
        </text>
        <text x={left + size / 2} y={top + height + 24} textAnchor="middle" fontSize={11} fill="#5b6470">
          predicted
        </text>
        {columns.map((l, j) => (
          <text key={`c${l}`} x={left + j * cell + cell / 2} y={top - 6} fontSize={10} transform={`rotate(-45 ${left + j * cell + cell / 2} ${top - 6})`}>
            {labelName(l)}
          </text>
        ))}
        {labels.map((l, i) => (
          <text key={`r${l}`} x={left - 6} y={top + i * cell + cell / 2 + 4} fontSize={10} textAnchor="end">
            {labelName(l)}
          </text>
        ))}
        {matrix.map((row, i) =>
          row.map((v, j) => {
            const share = norm[i]?.[j] ?? 0;
            const correct = labels[i] === columns[j];
            const opacity = confusionCellOpacity(share, correct);
            return (
              // biome-ignore lint/suspicious/noArrayIndexKey: a matrix cell is its (row, column) position
              <g key={`${i}-${j}`}>
                <rect x={left + j * cell} y={top + i * cell} width={cell} height={cell} fill={correct ? `rgba(19,115,51,${opacity})` : `rgba(180,35,24,${opacity})`} stroke="#fff" />
                <text x={left + j * cell + cell / 2} y={top + i * cell + cell / 2 + 4} fontSize={10} textAnchor="middle" fill={opacity > 0.6 ? "#fff" : "#1b1f24"}>
                  {v}
                </text>
                <title>{`true ${labels[i]}, predicted ${columns[j]}: ${v} (${(share * 100).toFixed(1)}% of the row)`}</title>
              </g>
            );
          }),
        )}
      </svg>
      {/* The numbers for screen readers: an image hides them. */}
      <table className="sr-only">
        <caption>{`${title}: rows are true labels, columns predicted`}</caption>
        <thead>
          <tr>
            <th>true \ predicted</th>
            {columns.map((c) => (
              <th key={c}>{labelName(c)}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => (
            <tr key={labels[i]}>
              <th>{labelName(labels[i]!)}</th>
              {row.map((v, j) => (
                <td key={columns[j]}>{v}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export interface Series {
  name: string;
  colour: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
}

/** A vertical line at one x (e.g. the epoch whose weights were kept), with its label. */
export interface ChartMarker {
  x: number;
  label: string;
}

export function LineChart({ series, title, yLabel, xLabel = "epoch", testId = "line-chart", yDomain, marker }: { series: Series[]; title: string; yLabel: string; xLabel?: string; testId?: string; yDomain?: [number, number]; marker?: ChartMarker | null }) {
  const W = 420;
  const H = 220;
  const m = { l: 46, r: 10, t: 24, b: 34 };
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  if (!xs.length) return <p className="muted">No {title.toLowerCase()} recorded yet.</p>;
  const x = linearScale(extent(xs), [m.l, W - m.r]);
  const yd = yDomain ?? extent(ys);
  const y = linearScale(yd[0] === yd[1] ? [yd[0] - 1, yd[1] + 1] : yd, [H - m.b, m.t]);
  const epochs = [...new Set(xs)].sort((a, b) => a - b);
  return (
    <>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" style={{ maxWidth: W }} role="img" aria-label={title} data-testid={testId}>
        <text x={W / 2} y={14} textAnchor="middle" fontSize={12} fontWeight={600}>
          {title}
        </text>
        {y.ticks(4).map((t) => (
          <g key={`y${t}`}>
            <line x1={m.l} x2={W - m.r} y1={y(t)} y2={y(t)} stroke="#e5e8ec" />
            <text x={m.l - 4} y={y(t) + 3} fontSize={9} textAnchor="end">
              {t}
            </text>
          </g>
        ))}
        {x.ticks(6).map((t) => (
          <text key={`x${t}`} x={x(t)} y={H - m.b + 12} fontSize={9} textAnchor="middle">
            {t}
          </text>
        ))}
        <text x={W / 2} y={H - 4} fontSize={10} textAnchor="middle" fill="#5b6470">
          {xLabel}
        </text>
        <text x={10} y={H / 2} fontSize={10} textAnchor="middle" fill="#5b6470" transform={`rotate(-90 10 ${H / 2})`}>
          {yLabel}
        </text>
        {marker && (
          <g data-testid="kept-epoch">
            <line x1={x(marker.x)} x2={x(marker.x)} y1={m.t} y2={H - m.b} stroke="#5b6470" strokeDasharray="2 2" />
            <text x={x(marker.x) - 3} y={H - m.b - 4} fontSize={9} textAnchor="end" fill="#5b6470">
              {marker.label}
            </text>
          </g>
        )}
        {series.map((s) => (
          <path key={s.name} d={linePath(s.points.map((p) => ({ x: x(p.x), y: y(p.y) })))} fill="none" stroke={s.colour} strokeWidth={2} strokeDasharray={s.dashed ? "5 3" : undefined} />
        ))}
        {series.map((s, i) => (
          <g key={`l${s.name}`} transform={`translate(${m.l + 8 + i * 100}, ${m.t + 4})`}>
            <line x1={0} x2={14} y1={0} y2={0} stroke={s.colour} strokeWidth={2} strokeDasharray={s.dashed ? "5 3" : undefined} />
            <text x={18} y={3} fontSize={9}>
              {s.name}
            </text>
          </g>
        ))}
      </svg>
      {/* The curves' values for screen readers. */}
      <table className="sr-only">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th>{xLabel}</th>
            {series.map((sr) => (
              <th key={sr.name}>{sr.name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {epochs.map((e) => (
            <tr key={e}>
              <th>{e}</th>
              {series.map((sr) => (
                <td key={sr.name}>{sr.points.find((p) => p.x === e)?.y.toFixed(3) ?? ""}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/**
 * What a run's metrics say about its curves: `valIsTrain` (no VAL images, so its "val" figures are on
 * TRAIN) and the kept epoch (`training.bestEpoch`, 1-based: under `card` for a model trained here, at
 * the top level for one registered from a folder).
 */
export interface HistoryNotes {
  valIsTrain?: boolean;
  bestEpoch?: number;
}

export function historyNotes(metrics: unknown): Required<Pick<HistoryNotes, "valIsTrain">> & Pick<HistoryNotes, "bestEpoch"> {
  type Training = { training?: { bestEpoch?: unknown } | null } | null;
  const m = (metrics ?? {}) as { valIsTrain?: unknown; card?: Training } & Training;
  const best = m.card?.training?.bestEpoch ?? m.training?.bestEpoch;
  return { valIsTrain: m.valIsTrain === true, bestEpoch: typeof best === "number" && Number.isInteger(best) && best >= 1 ? best : undefined };
}

/**
 * Reads `metrics.history` ({ epoch, trainLoss, valLoss, trainAccuracy, valAccuracy }) into series.
 * With `valIsTrain` the "val" curves were measured on the training images: named in-sample, since
 * calling them validation would pass an optimistic figure off as a held-out one.
 */
export function historySeries(history: unknown, notes: HistoryNotes = {}): { loss: Series[]; accuracy: Series[]; accuracyDomain: [number, number]; kept: ChartMarker | null } {
  const rows = Array.isArray(history) ? (history as Record<string, unknown>[]) : [];
  const pick = (key: string) =>
    rows.flatMap((r, i) => {
      const v = r[key];
      const e = typeof r.epoch === "number" ? r.epoch : i + 1;
      return typeof v === "number" && Number.isFinite(v) ? [{ x: e, y: v }] : [];
    });
  const val = (what: string) => (notes.valIsTrain ? `in-sample ${what} (no validation set)` : `val ${what}`);
  const accuracy = [
    { name: "train acc", colour: "#0b5cad", points: pick("trainAccuracy") },
    { name: val("acc"), colour: "#2ca02c", points: pick("valAccuracy"), dashed: true },
  ].filter((s) => s.points.length);
  const loss = [
    { name: "train loss", colour: "#0b5cad", points: pick("trainLoss") },
    { name: val("loss"), colour: "#d62728", points: pick("valLoss"), dashed: true },
  ].filter((s) => s.points.length);
  // Only an epoch the curves show: a marker off their range would point at nothing.
  const best = notes.bestEpoch;
  const kept = best !== undefined && [...loss, ...accuracy].some((s) => s.points.some((p) => p.x === best)) ? { x: best, label: `kept: epoch ${best}` } : null;
  return {
    loss,
    accuracy,
    accuracyDomain: accuracyDomain(accuracy.flatMap((s) => s.points.map((p) => p.y))),
    kept,
  };
}
