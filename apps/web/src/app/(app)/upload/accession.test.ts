import { ACCESSION_PATTERN } from "@rcmnet/api/accession";
import { describe, expect, it } from "vitest";

// As the browser compiles an input's pattern attribute: anchored, with the v flag.
const browser = new RegExp(`^(?:${ACCESSION_PATTERN})$`, "v");

describe("the case form's accession pattern", () => {
  it("takes what the API takes and refuses what it refuses", () => {
    for (const ok of ["AB", "DEMO-0001", "cart_017.b", "A".repeat(40)]) expect(browser.test(ok), ok).toBe(true);
    for (const bad of ["A", "-A1", ".hidden", "John Smith", "A".repeat(41), "é123"]) expect(browser.test(bad), bad).toBe(false);
  });
});
