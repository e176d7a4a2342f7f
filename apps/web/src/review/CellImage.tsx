"use client";
// A cell crop, or its Grad-CAM overlay when asked for. The overlay is produced by the API on
// demand; when it cannot be produced the crop stays visible with a note (never a broken image).
import { useState } from "react";
import { cellImageSrc } from "./imageSrc";

export function CellImage({ cell, gradcam, size, alt, className, style, testId }: { cell: { id: string; cropSha256: string }; gradcam: boolean; size: number; alt: string; className?: string; style?: React.CSSProperties; testId?: string }) {
  const [failed, setFailed] = useState(false);
  // A new cell gets a new chance at its overlay.
  const [shownFor, setShownFor] = useState(cell.id);
  if (shownFor !== cell.id) {
    setShownFor(cell.id);
    setFailed(false);
  }
  const overlay = gradcam && !failed;
  return (
    <span style={{ position: "relative", display: "block" }}>
      <img
        src={cellImageSrc(cell, overlay ? "gradcam" : "crop")}
        alt={overlay ? `Grad-CAM: ${alt}` : alt}
        width={size}
        height={size}
        loading="lazy"
        decoding="async"
        className={className}
        style={style}
        data-testid={testId ?? (overlay ? "gradcam-overlay" : undefined)}
        data-gradcam={overlay ? "on" : "off"}
        onError={() => {
          if (overlay) setFailed(true);
        }}
      />
      {gradcam && failed && (
        <span className="badge" style={{ position: "absolute", left: 2, bottom: 2, fontSize: "0.65rem" }} data-testid="gradcam-unavailable">
          Grad-CAM unavailable
        </span>
      )}
    </span>
  );
}
