/** Self-contained SVG plots (no fonts or scripts fetched): training curves and confusion matrices. */
import type { EpochRecord } from './train.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function polyline(points: [number, number][], color: string, dashed = false): string {
  if (!points.length) return '';
  return `<polyline fill="none" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="5,4"' : ''} points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`;
}

/** Two panels: loss (train/val) and accuracy (train/val/val balanced) per epoch. */
export function trainingCurveSvg(history: EpochRecord[], title = 'Training curves'): string {
  const W = 760;
  const H = 320;
  const pad = { l: 50, r: 20, t: 40, b: 40 };
  const panelW = (W - pad.l - pad.r - 60) / 2;
  const panelH = H - pad.t - pad.b;
  const n = Math.max(1, history.length);
  const x = (i: number, x0: number) => x0 + (n === 1 ? panelW / 2 : (i / (n - 1)) * panelW);
  const maxLoss = Math.max(1e-6, ...history.flatMap((h) => [h.trainLoss, h.valLoss]).filter(Number.isFinite));
  const panel = (x0: number, label: string, series: { key: keyof EpochRecord; color: string; name: string; dashed?: boolean }[], max: number) => {
    const y = (v: number) => pad.t + panelH - (v / max) * panelH;
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
      const v = f * max;
      return `<line x1="${x0}" x2="${x0 + panelW}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/><text x="${x0 - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v.toFixed(max > 2 ? 1 : 2)}</text>`;
    });
    const lines = series.map((s) => polyline(history.map((h, i) => [x(i, x0), y(Number(h[s.key]))]), s.color, s.dashed));
    const legend = series.map((s, i) => `<text x="${x0 + 8}" y="${pad.t + 14 + i * 14}" font-size="11" fill="${s.color}">${esc(s.name)}</text>`);
    return [
      `<text x="${x0 + panelW / 2}" y="${pad.t - 10}" text-anchor="middle" font-size="13">${esc(label)}</text>`,
      ...ticks,
      `<rect x="${x0}" y="${pad.t}" width="${panelW}" height="${panelH}" fill="none" stroke="#9ca3af"/>`,
      ...lines,
      ...legend,
      `<text x="${x0 + panelW / 2}" y="${H - 8}" text-anchor="middle" font-size="11">epoch (1-${history.length})</text>`,
    ].join('\n');
  };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<title>${esc(title)}</title><rect width="100%" height="100%" fill="white"/>
${panel(pad.l, 'Loss', [
  { key: 'trainLoss', color: '#2563eb', name: 'train' },
  { key: 'valLoss', color: '#dc2626', name: 'val', dashed: true },
], maxLoss * 1.05)}
${panel(pad.l + panelW + 60, 'Accuracy', [
  { key: 'trainAcc', color: '#2563eb', name: 'train' },
  { key: 'valAcc', color: '#dc2626', name: 'val', dashed: true },
  { key: 'valBalancedAcc', color: '#16a34a', name: 'val balanced' },
], 1)}
</svg>
`;
}

/** Confusion matrix heat map: rows are true labels, columns predictions; cells show counts. */
export function confusionSvg(confusion: number[][], labels: string[], title = 'Confusion matrix'): string {
  const k = labels.length;
  const cell = Math.max(28, Math.min(60, Math.floor(480 / Math.max(1, k))));
  const left = 130;
  const top = 110;
  const W = left + k * cell + 20;
  const H = top + k * cell + 40;
  const rows: string[] = [];
  confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((v, j) => {
      const f = v / total;
      const shade = Math.round(255 - f * 200);
      const fill = i === j ? `rgb(${shade},${Math.round(255 - f * 120)},${shade})` : `rgb(255,${shade},${shade})`;
      rows.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${fill}" stroke="#d1d5db"/>` +
          `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" font-size="11">${v}</text>`,
      );
    });
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
${rowLabels.join('\n')}
${colLabels.join('\n')}
${rows.join('\n')}
</svg>
`;
}
