"use client";
// The smear field with zoom (wheel, +/-), pan (drag) and the cell boxes coloured by class.
// Pure SVG: the image is one <image>, boxes are <rect>s in image coordinates, so zooming is a
// viewBox change and costs nothing per box.
import { memo, useCallback, useEffect, useRef, useState, type PointerEvent, type WheelEvent } from "react";
import { classColour } from "@/charts/scale";
import type { ReviewCell } from "./model";
import { labelKey, labelName } from "@/lib/labels";

export interface SlideInfo {
  id: string;
  imageSha256: string;
  width: number;
  height: number;
  kind: "FIELD" | "CROP";
}

interface View {
  x: number;
  y: number;
  w: number;
  h: number;
}

function fit(slide: SlideInfo): View {
  return { x: 0, y: 0, w: slide.width, h: slide.height };
}

export const FieldView = memo(function FieldView({
  slide,
  cells,
  labels,
  cursor,
  onSelect,
}: {
  slide: SlideInfo;
  cells: readonly ReviewCell[];
  labels: readonly string[];
  cursor: string | null;
  onSelect: (id: string) => void;
}) {
  const [view, setView] = useState<View>(() => fit(slide));
  const drag = useRef<{ px: number; py: number; view: View; moved: boolean; cellId: string | null } | null>(null);
  const svg = useRef<SVGSVGElement>(null);

  useEffect(() => setView(fit(slide)), [slide]);

  // The wheel zooms the field; it must not also scroll the page. React attaches wheel
  // listeners as passive (preventDefault ignored), so this one is attached natively.
  useEffect(() => {
    const el = svg.current;
    if (!el) return;
    const keepPage = (e: globalThis.WheelEvent) => e.preventDefault();
    el.addEventListener("wheel", keepPage, { passive: false });
    return () => el.removeEventListener("wheel", keepPage);
  }, []);

  // Keep the cursor's cell in view when the keyboard moves to it.
  const current = cells.find((c) => c.id === cursor) ?? null;
  useEffect(() => {
    if (!current) return;
    setView((v) => {
      const b = current.box;
      const inside = b.x >= v.x && b.y >= v.y && b.x + b.width <= v.x + v.w && b.y + b.height <= v.y + v.h;
      if (inside) return v;
      return { ...v, x: b.x + b.width / 2 - v.w / 2, y: b.y + b.height / 2 - v.h / 2 };
    });
  }, [current]);

  const zoom = useCallback(
    (factor: number, cx?: number, cy?: number) =>
      setView((v) => {
        const w = Math.min(slide.width * 2, Math.max(32, v.w * factor));
        const h = (w / v.w) * v.h;
        const ax = cx ?? v.x + v.w / 2;
        const ay = cy ?? v.y + v.h / 2;
        return { x: ax - ((ax - v.x) * w) / v.w, y: ay - ((ay - v.y) * h) / v.h, w, h };
      }),
    [slide.width],
  );

  function toImage(clientX: number, clientY: number) {
    const el = svg.current;
    const ctm = el?.getScreenCTM();
    if (!el || !ctm) return { x: 0, y: 0 };
    const p = new DOMPoint(clientX, clientY).matrixTransform(ctm.inverse());
    return { x: p.x, y: p.y };
  }

  function onWheel(e: WheelEvent<SVGSVGElement>) {
    const p = toImage(e.clientX, e.clientY);
    zoom(e.deltaY > 0 ? 1.2 : 1 / 1.2, p.x, p.y);
  }
  function onPointerDown(e: PointerEvent<SVGSVGElement>) {
    // Pointer capture sends the release to the <svg>, so remember which box was pressed.
    const cellId = (e.target as Element).getAttribute?.("data-cell-id") ?? null;
    drag.current = { px: e.clientX, py: e.clientY, view, moved: false, cellId };
    e.currentTarget.setPointerCapture(e.pointerId);
  }
  function onPointerMove(e: PointerEvent<SVGSVGElement>) {
    const d = drag.current;
    const el = svg.current;
    if (!d || !el) return;
    const scale = d.view.w / el.clientWidth;
    const dx = (e.clientX - d.px) * scale;
    const dy = (e.clientY - d.py) * scale;
    if (Math.abs(dx) + Math.abs(dy) > 2) d.moved = true;
    setView({ ...d.view, x: d.view.x - dx, y: d.view.y - dy });
  }
  function onPointerUp() {
    const d = drag.current;
    drag.current = null;
    if (d && !d.moved && d.cellId) onSelect(d.cellId);
  }

  const stroke = Math.max(1.5, view.w / 400);
  return (
    <div>
      <div className="field-tools no-print">
        <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => zoom(1 / 1.5)} aria-label="Zoom in" data-testid="zoom-in">
          +
        </button>
        <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => zoom(1.5)} aria-label="Zoom out" data-testid="zoom-out">
          −
        </button>
        <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => setView(fit(slide))} data-testid="zoom-reset">
          Fit
        </button>
        <span className="muted" data-testid="zoom-level">
          {Math.round((slide.width / view.w) * 100)}%
        </span>
        <span className="muted">· drag to pan, wheel to zoom</span>
      </div>
      <div className="field-view" data-testid="field-view">
        <svg
          ref={svg}
          viewBox={`${view.x} ${view.y} ${view.w} ${view.h}`}
          preserveAspectRatio="xMidYMid meet"
          role="img"
          aria-label={`Smear field with ${cells.length} detected cells`}
          onWheel={onWheel}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={onPointerUp}
        >
          <image href={`/api/images/${slide.imageSha256}`} x={0} y={0} width={slide.width} height={slide.height} />
          {cells.map((c) => (
            <g key={c.id}>
            <rect
              x={c.box.x}
              y={c.box.y}
              width={c.box.width}
              height={c.box.height}
              fill="transparent"
              // The cursor in black, a colour no class has (eosinophil orange was too close to the old one).
              stroke={c.id === cursor ? "#1a1a1a" : classColour(labels, c.currentLabel)}
              strokeWidth={c.id === cursor ? stroke * 2 : stroke}
              strokeDasharray={c.decision ? undefined : `${stroke * 3} ${stroke * 2}`}
              data-testid="cell-box"
              data-cell-id={c.id}
            >
              <title>{`${labelName(c.currentLabel)}${c.decision ? " (reviewed)" : ""}`}</title>
            </rect>
            {/* The class's key inside its box: colour alone does not tell CAR-T red from neutrophil
                green to a colour-blind reader (WCAG 1.4.1); the legend pairs keys with names. */}
            <text
              x={c.box.x + stroke * 1.5}
              y={c.box.y + stroke * 7}
              fontSize={stroke * 7}
              fill={classColour(labels, c.currentLabel)}
              stroke="#fff"
              strokeWidth={stroke}
              paintOrder="stroke"
              pointerEvents="none"
              data-testid="cell-box-key"
            >
              {labelKey(c.currentLabel) ?? "?"}
            </text>
            </g>
          ))}
        </svg>
      </div>
      {/* Colour is not the only cue: the legend names each class on this field and the line styles. */}
      <div className="row muted" style={{ flexWrap: "wrap", gap: "0.2rem 0.8rem", fontSize: "0.8rem", marginTop: "0.3rem" }} data-testid="field-legend">
        {labels
          .filter((l) => cells.some((c) => c.currentLabel === l))
          .map((l) => (
            <span key={l} data-label={l}>
              <span aria-hidden="true" style={{ display: "inline-block", width: 10, height: 10, border: `2px solid ${classColour(labels, l)}`, marginRight: 4 }} />
              <kbd>{labelKey(l) ?? "?"}</kbd> {labelName(l)}
            </span>
          ))}
        <span>dashed: not reviewed · thick black: current cell</span>
      </div>
    </div>
  );
});
