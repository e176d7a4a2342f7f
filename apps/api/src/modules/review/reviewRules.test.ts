import { describe, expect, it } from "vitest";
import { assertReasonToLeaveUnidentified } from "./reviewRules.ts";

describe("assertReasonToLeaveUnidentified", () => {
  it("asks why a cell is left unidentified, however a model spells the label", () => {
    for (const label of ["unidentified", "Unidentified", "UNIDENTIFIED"]) {
      expect(() => assertReasonToLeaveUnidentified(label, null), label).toThrow(/reason is required to leave a cell unidentified/);
      expect(() => assertReasonToLeaveUnidentified(label, "smudged")).not.toThrow();
    }
    expect(() => assertReasonToLeaveUnidentified("lymphocyte", null)).not.toThrow();
    expect(() => assertReasonToLeaveUnidentified(null, undefined)).not.toThrow();
  });
});
