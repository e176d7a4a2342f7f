import { describe, expect, it } from "vitest";
import { cellImageSrc } from "./imageSrc";

describe("cellImageSrc", () => {
  const cell = { id: "5f0c6f8e-1d2b-4c3a-9e8f-0123456789ab", cropSha256: "a".repeat(64) };
  it("serves the crop by its hash and the Grad-CAM overlay by the cell", () => {
    expect(cellImageSrc(cell, "crop")).toBe(`/api/images/${"a".repeat(64)}`);
    expect(cellImageSrc(cell, "gradcam")).toBe(`/api/images/cells/${cell.id}/gradcam`);
  });
});
