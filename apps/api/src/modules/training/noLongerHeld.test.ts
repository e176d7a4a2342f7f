import { describe, expect, it } from "vitest";
import { noLongerHeld } from "./noLongerHeld.ts";

describe("stale snapshot cells", () => {
  it("name all three causes, not only an amendment's relabelling, in the number the count takes", () => {
    expect(`1 cell ${noLongerHeld(1)}`).toBe(
      "1 cell no longer holds the label it was frozen with (relabelled by an amendment, its image voided, or its case's report retracted)",
    );
    expect(`2 cells ${noLongerHeld(2)}`).toBe(
      "2 cells no longer hold the label they were frozen with (relabelled by an amendment, their image voided, or their case's report retracted)",
    );
  });
});
