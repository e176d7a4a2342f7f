import { describe, expect, it } from "vitest";
import { candidatesScoredText } from "./candidatesScored";

describe("the models scored on a proposal's TEST part", () => {
  it("warns where the candidate is the best of several", () => {
    expect(candidatesScoredText(3)).toBe(
      "3 models were scored on this TEST part (this candidate and 2 others, the champion it is compared with not counted): the best of several looks better than it is; confirm it on a newer snapshot's TEST part.",
    );
    expect(candidatesScoredText(2)).toMatch(/^2 models were scored on this TEST part \(this candidate and 1 other, the champion/);
  });

  it("says nothing for the candidate alone, or for a proposal filed before the count (null)", () => {
    expect(candidatesScoredText(1)).toBeNull();
    expect(candidatesScoredText(null)).toBeNull();
  });
});
