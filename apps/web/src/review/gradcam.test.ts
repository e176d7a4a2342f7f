import { describe, expect, it } from "vitest";
import { gradcamCaption } from "./gradcam";

const ai = { label: "lymphocyte", confidence: 0.9, abstained: false, modelVersion: "rcmnet 1.2" };

describe("the Grad-CAM caption", () => {
  it("names the call it explains and its model", () => {
    expect(gradcamCaption({ ai, currentLabel: "lymphocyte" })).toBe("Grad-CAM for the AI call: Lymphocyte, by rcmnet 1.2.");
  });

  it("says so when the cell now carries another label, or the AI abstained", () => {
    expect(gradcamCaption({ ai, currentLabel: "car_t" })).toMatch(/It explains that call, not the label CAR-T cell the cell now has\.$/);
    expect(gradcamCaption({ ai: { ...ai, abstained: true }, currentLabel: "unidentified" })).toMatch(/Lymphocyte \(its best guess; it abstained\).*not the label Unidentified/);
    expect(gradcamCaption({ ai: null, currentLabel: "unidentified" })).toBe("Grad-CAM: no AI call to explain.");
  });
});
