import { describe, expect, it } from "vitest";
import { amendmentNotice } from "./amendmentNotice";
import { readReportContent } from "./content";

const RETRACTION = "Amended report: retracted, no valid result";
const kase = { accession: "ACC-1", patientRef: "MRN-1", product: "tisa-cel", timepoint: "day +7", specimen: "Peripheral blood", collectedAt: null, wbcCount: 5 };
const zeros = [
  { label: "lymphocyte", count: 0, percent: 0 },
  { label: "car_t", count: 0, percent: 0 },
];
// The scenario: version 1 approved, version 2 retracts it with every image voided (every class
// signed at 0, a note on the retraction), the right smears arrive, version 3 signs a result.
const v1 = readReportContent({
  schema: "rcmnet.signed-report/8",
  meaning: "Reviewed and approved",
  retracted: false,
  case: kase,
  differential: { rows: [{ label: "lymphocyte", count: 20, percent: 80 }, { label: "car_t", count: 5, percent: 20 }], excluded: [] },
  cells: [{ id: "a", label: "car_t" }],
  comment: "No blasts seen.",
});
const v2 = readReportContent({ schema: "rcmnet.signed-report/8", meaning: RETRACTION, retracted: true, case: kase, differential: { rows: zeros, excluded: [] }, cells: [], comment: "Smears were patient B's." });
const v3 = readReportContent({
  schema: "rcmnet.signed-report/8",
  meaning: "Amended report: reviewed and approved",
  retracted: false,
  case: kase,
  differential: { rows: [{ label: "lymphocyte", count: 30, percent: 71.4 }, { label: "car_t", count: 12, percent: 28.6 }], excluded: [] },
  cells: [{ id: "b", label: "car_t" }],
  comment: "Reactive lymphocytes.",
});
const version = (content: typeof v1, withheld: string[] = []) => ({ content, retracted: content.retracted, withheld });

describe("the amendment notice of a signed report", () => {
  it("lists no change against a retraction, which gave no result: never 'CAR-T cell 0 → 12' or its note as a 'morphology comment'", () => {
    const n = amendmentNotice({ amended: 2, previous: version(v2), shown: version(v3), reason: "The right smears arrived" });
    expect(n).toEqual({
      lead: "Amendment of version 2 (a retraction: no valid result). Reason: The right smears arrived",
      changes: null,
      uncompared: "It replaces a retraction: no earlier result to compare.",
    });
  });

  it("lists no change on a retraction: it withdrew every count", () => {
    expect(amendmentNotice({ amended: 1, previous: version(v1), shown: version(v2), reason: "Another patient's smears" })).toEqual({
      lead: "Retraction of version 1. Reason: Another patient's smears",
      changes: null,
      uncompared: null,
    });
  });

  it("lists what changed between two results", () => {
    const n = amendmentNotice({ amended: 1, previous: version(v1), shown: version(v3), reason: "Recounted" });
    expect(n.lead).toBe("Amendment of version 1. Reason: Recounted");
    expect(n.uncompared).toBeNull();
    expect(n.changes).toBe("Changed since then: 0 cells relabelled; Lymphocyte 20 → 30, CAR-T cell 5 → 12; morphology comment changed.");
    // What the reader's role may not see is said to be withheld, not compared.
    expect(amendmentNotice({ amended: 1, previous: version(v1, ["comment"]), shown: version(v3, ["comment"]), reason: "withheld for your role" }).changes).toBe(
      "Changed since then: 0 cells relabelled; Lymphocyte 20 → 30, CAR-T cell 5 → 12; morphology comment: withheld for your role.",
    );
  });

  it("says what it amends even where the page does not have that version", () => {
    expect(amendmentNotice({ amended: 1, previous: null, shown: version(v3), reason: "not recorded" })).toEqual({ lead: "Amendment of version 1. Reason: not recorded", changes: null, uncompared: null });
  });
});
