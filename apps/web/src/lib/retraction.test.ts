import { describe, expect, it } from "vitest";
import { amendingNotice, commentHeading, modelsRow, noResultText, retractionBanner, supersededBadge, versionStatus, withdrawnNotice } from "./retraction";

const v = (version: number, retracted = false) => ({ version, retracted });

describe("a retracted report", () => {
  it("says in its banner which version must not be used, and that nothing replaces it", () => {
    expect(retractionBanner(2, 1)).toBe("Retracted: no valid result. Version 1 of this report must not be used; this version (2) gives no result in its place.");
    expect(retractionBanner(4, 3)).toBe(
      "Retracted: no valid result. Version 3 of this report, nor any version before it, must not be used; this version (4) gives no result in its place.",
    );
    expect(retractionBanner(2, null)).toMatch(/^Retracted: no valid result\. Version 1 /);
  });

  it("presents no count as a result: its cells are recorded, or there were none", () => {
    expect(noResultText(0)).toBe("No valid result: this version reports no differential count. No cell was counted (every image of the case was voided or failed).");
    expect(noResultText(null)).toMatch(/No cell was counted/);
    expect(noResultText(12)).toBe("No valid result: this version reports no differential count. The 12 cells reviewed stay recorded with the signature, not as a result.");
    expect(noResultText(1)).toMatch(/The 1 cell reviewed stay/);
  });

  it("marks the versions it withdrew, on screen and on paper", () => {
    const retracted = [v(1), v(2, true)];
    expect(withdrawnNotice(1, retracted)).toBe("Withdrawn: version 2 retracted this report (no valid result). This version must not be used.");
    expect(withdrawnNotice(2, retracted)).toBeNull();
    expect(supersededBadge(v(2, true))).toBe("superseded by version 2 (a retraction: no valid result)");
    expect(supersededBadge(v(2))).toBe("superseded by version 2");
    // A plain amendment withdraws nothing: the earlier version is superseded, as before.
    expect(withdrawnNotice(1, [v(1), v(2)])).toBeNull();
    // The right smears arrived later: version 3 gives a result again; 1 stays withdrawn by 2.
    const again = [v(1), v(2, true), v(3)];
    expect(withdrawnNotice(1, again)).toBe("Withdrawn: version 2 retracted this report (no valid result); version 3 is the report of record. This version must not be used.");
    expect(withdrawnNotice(2, again)).toBeNull();
    expect(withdrawnNotice(3, again)).toBeNull();
  });

  it("names each version in the list by what it is", () => {
    const versions = [v(1), v(2, true)];
    expect(versionStatus(v(1), versions)).toBe("superseded by a retraction");
    expect(versionStatus(v(2, true), versions)).toBe("current: retracted, no valid result");
    const again = [v(1), v(2, true), v(3)];
    expect(versionStatus(v(2, true), again)).toBe("retraction, superseded");
    expect(versionStatus(v(3), again)).toBe("current");
    // Without a retraction, the words the list always had.
    expect(versionStatus(v(1), [v(1), v(2)])).toBe("superseded");
    expect(versionStatus(v(2), [v(1), v(2)])).toBe("current");
  });

  it("says, while an amendment is open, that the report of record meanwhile is a retraction", () => {
    expect(amendingNotice(2, v(2, true))).toBe(
      "An amendment is in progress: version 3 is being prepared. Version 2 (a retraction: no valid result) stays the report of record until the amendment is signed.",
    );
    expect(amendingNotice(1, v(1))).toBe("An amendment is in progress: version 2 is being prepared. Version 1 stays the report of record until the amendment is signed.");
  });
});

describe("a retraction's comment", () => {
  it("is titled a note on the retraction, not a morphology comment", () => {
    expect(commentHeading(true)).toBe("Note on the retraction");
    expect(commentHeading(false)).toBe("Morphology comment");
  });
});


describe("the models row of a report", () => {
  it("names the models of a result as before", () => {
    expect(modelsRow(false, ["rcmnet 1.2", "rcmnet 1.3"])).toEqual({ heading: "Model version(s)", text: "rcmnet 1.2, rcmnet 1.3" });
    expect(modelsRow(false, [])).toEqual({ heading: "Model version(s)", text: "—" });
  });

  it("on a retraction, says the models only called the cells it recorded, and is left out where it recorded none", () => {
    expect(modelsRow(true, ["rcmnet 1.2"])).toEqual({
      heading: "Model version(s) of the recorded cells",
      text: "rcmnet 1.2: AI calls on the cells recorded with this retraction, not a result",
    });
    expect(modelsRow(true, [])).toBeNull();
  });
});
