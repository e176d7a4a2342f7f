/** Self-contained SVG plots (no fonts or scripts fetched): training curves and confusion matrices. */
import type { EpochRecord } from './train.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Series {
  key: keyof EpochRecord;
  color: string;
  name: string;
  dashed?: boolean;
}

const dash = (dashed?: boolean) => (dashed ? ' stroke-dasharray="5,4"' : '');

function polyline(points: [number, number][], color: string, dashed = false): string {
  if (!points.length) return '';
  return `<polyline fill="none" stroke="${color}" stroke-width="2"${dash(dashed)} points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`;
}

/** Epoch numbers to label: the first, then multiples of a 1-2-5 step, at most ~6 labels. */
function epochTicks(n: number): number[] {
  const step = [1, 2, 5, 10, 20, 50, 100, 200, 500].find((s) => n / s <= 6) ?? Math.ceil(n / 6);
  const ticks = [1];
  for (let e = step; e <= n; e += step) if (e > 1) ticks.push(e);
  return ticks;
}

/**
 * Where the accuracy axis starts: the lowest tenth the curves reach, 0.9 at most, so that the
 * last percent shows. The dashboard's `accuracyDomain` (apps/web/src/charts/scale.ts) is the same
 * rule; the web app does not depend on this package (it would pull TensorFlow.js into it).
 */
function accuracyAxisFloor(accuracies: number[]): number {
  const lowest = Math.min(1, ...accuracies);
  return Math.min(0.9, Math.max(0, Math.floor(lowest * 10) / 10));
}

/**
 * Two panels: loss (train/val) and accuracy (train/val/val balanced) per epoch, and a dotted
 * line at the epoch whose weights were saved. The accuracy axis starts at the lowest tenth the
 * curves reach, not at 0, so that the last percent (where models differ) is visible.
 */
export function trainingCurveSvg(history: EpochRecord[], { title = 'Training curves', bestEpoch }: { title?: string; bestEpoch?: number } = {}): string {
  const W = 760;
  const H = 350;
  const pad = { l: 50, r: 20, t: 40, b: 70 };
  const panelW = (W - pad.l - pad.r - 60) / 2;
  const panelH = H - pad.t - pad.b;
  const n = Math.max(1, history.length);
  // Epoch e (1-based) across the panel.
  const x = (e: number, x0: number) => x0 + (n === 1 ? panelW / 2 : ((e - 1) / (n - 1)) * panelW);
  const finite = (keys: (keyof EpochRecord)[]) => history.flatMap((h) => keys.map((k) => Number(h[k]))).filter(Number.isFinite);
  const maxLoss = Math.max(1e-6, ...finite(['trainLoss', 'valLoss']));
  const accLo = accuracyAxisFloor(finite(['trainAcc', 'valAcc', 'valBalancedAcc']));
  const savedEpoch = bestEpoch !== undefined && bestEpoch >= 1 && bestEpoch <= history.length ? bestEpoch : undefined;
  const panel = (x0: number, label: string, series: Series[], lo: number, hi: number, format: (v: number) => string) => {
    const y = (v: number) => pad.t + panelH - ((v - lo) / (hi - lo)) * panelH;
    const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
      const v = lo + f * (hi - lo);
      return `<line x1="${x0}" x2="${x0 + panelW}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/><text x="${x0 - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${format(v)}</text>`;
    });
    const xTicks = epochTicks(history.length).map((e) => `<text x="${x(e, x0)}" y="${pad.t + panelH + 14}" text-anchor="middle" font-size="10">${e}</text>`);
    const lines = series.map((s) =>
      polyline(
        history.flatMap((h) => (Number.isFinite(Number(h[s.key])) ? [[x(h.epoch, x0), y(Number(h[s.key]))] as [number, number]] : [])),
        s.color,
        s.dashed,
      ),
    );
    const saved =
      savedEpoch !== undefined
        ? `<line x1="${x(savedEpoch, x0)}" x2="${x(savedEpoch, x0)}" y1="${pad.t}" y2="${pad.t + panelH}" stroke="#6b7280" stroke-dasharray="2,3"/>`
        : '';
    // Legend in a row under the axis label, so that it never hides a curve.
    const legend = series.map((s, i) => {
      const lx = x0 + i * 110;
      const ly = H - 14;
      return `<line x1="${lx}" x2="${lx + 16}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash(s.dashed)}/><text x="${lx + 20}" y="${ly}" font-size="11">${esc(s.name)}</text>`;
    });
    return [
      `<text x="${x0 + panelW / 2}" y="${pad.t - 10}" text-anchor="middle" font-size="13">${esc(label)}</text>`,
      ...yTicks,
      `<rect x="${x0}" y="${pad.t}" width="${panelW}" height="${panelH}" fill="none" stroke="#9ca3af"/>`,
      saved,
      ...lines,
      ...xTicks,
      `<text x="${x0 + panelW / 2}" y="${pad.t + panelH + 30}" text-anchor="middle" font-size="11">epoch</text>`,
      ...legend,
    ].join('\n');
  };
  const savedNote =
    savedEpoch !== undefined
      ? `<text x="${W - pad.r}" y="${pad.t - 24}" text-anchor="end" font-size="11" fill="#6b7280">dotted: epoch ${savedEpoch}, the weights saved</text>`
      : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<title>${esc(title)}</title><rect width="100%" height="100%" fill="white"/>
${savedNote}
${panel(
  pad.l,
  'Loss',
  [
    { key: 'trainLoss', color: '#2563eb', name: 'train' },
    { key: 'valLoss', color: '#dc2626', name: 'val', dashed: true },
  ],
  0,
  maxLoss * 1.05,
  (v) => v.toFixed(maxLoss > 2 ? 1 : 2),
)}
${panel(
  pad.l + panelW + 60,
  'Accuracy',
  [
    { key: 'trainAcc', color: '#2563eb', name: 'train' },
    { key: 'valAcc', color: '#dc2626', name: 'val', dashed: true },
    { key: 'valBalancedAcc', color: '#16a34a', name: 'val balanced' },
  ],
  accLo,
  1,
  (v) => `${(v * 100).toFixed(accLo >= 0.8 ? 1 : 0)}%`,
)}
</svg>
`;
}

/**
 * Opacity of a confusion-matrix cell from its share of the row. Errors are the point of the
 * picture, and a good model's are small (7 of 335 is 2%): any error is visibly tinted and 10% of
 * the row is full colour. The dashboard's chart (apps/web/src/charts/scale.ts) uses the same rule.
 */
export function confusionCellOpacity(share: number, diagonal: boolean): number {
  if (diagonal) return 0.1 + 0.9 * share;
  return share > 0 ? 0.15 + 0.85 * Math.min(1, share / 0.1) : 0;
}

/** Confusion matrix heat map: rows are true labels, columns predictions; cells show counts, the right column each row's recall. */
export function confusionSvg(confusion: number[][], labels: string[], title = 'Confusion matrix'): string {
  const k = labels.length;
  const cell = Math.max(28, Math.min(60, Math.floor(480 / Math.max(1, k))));
  const left = 130;
  const top = 110;
  const W = left + k * cell + 70;
  const H = top + k * cell + 40;
  const rows: string[] = [];
  confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((v, j) => {
      const opacity = confusionCellOpacity(total ? v / total : 0, i === j);
      rows.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${i === j ? '#15803d' : '#dc2626'}" fill-opacity="${opacity.toFixed(3)}" stroke="#d1d5db"/>` +
          `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" font-size="11"${opacity > 0.6 ? ' fill="white"' : ''}>${v}</text>`,
      );
    });
    const recall = total ? `${((100 * (row[i] ?? 0)) / total).toFixed(1)}%` : '–';
    rows.push(`<text x="${left + k * cell + 8}" y="${top + i * cell + cell / 2 + 4}" font-size="11">${recall}</text>`);
  });
  const rowLabels = labels.map((l, i) => `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end" font-size="11">${esc(l)}</text>`);
  const colLabels = labels.map(
    (l, j) => `<text transform="translate(${left + j * cell + cell / 2 + 4},${top - 6}) rotate(-45)" font-size="11">${esc(l)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<title>${esc(title)}</title><rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>
<text x="${left + (k * cell) / 2}" y="${H - 10}" text-anchor="middle" font-size="11">predicted</text>
<text transform="translate(14,${top + (k * cell) / 2}) rotate(-90)" text-anchor="middle" font-size="11">true</text>
<text x="${left + k * cell + 8}" y="${top - 6}" font-size="11">recall</text>
${rowLabels.join('\n')}
${colLabels.join('\n')}
${rows.join('\n')}
</svg>
`;
}
