import { describe, expect, it } from "vitest";
import { labelList, toReviewCell, type ApiCell } from "./mapping";
import { labelKey, labelName } from "@/lib/labels";
import { signedLabelOf, signedVersionOf } from "./model";

const base: ApiCell = {
  id: "c1",
  slideId: "s1",
  x: 1,
  y: 2,
  width: 3,
  height: 4,
  cropSha256: "f".repeat(64),
  currentLabel: "car_t",
  reviewCount: 0,
  humanDecided: false,
  prediction: { label: "car_t", confidence: 0.4, abstained: true, modelVersionId: "m1", modelVersion: { id: "m1", name: "rcmnet", version: "v1" } },
  reviews: [],
};

describe("API to review model", () => {
  it("shows an abstention as unidentified until a human decides", () => {
    const c = toReviewCell(base);
    expect(c.currentLabel).toBe("unidentified");
    expect(c.ai).toEqual({ label: "car_t", confidence: 0.4, abstained: true, modelVersion: "rcmnet v1", fromChampion: false, withdrawn: true });
    expect(c.decision).toBeNull();
  });

  it("keeps the label the API holds beside the shown one: a cell without any label shows as unidentified", () => {
    const unlabelled = toReviewCell({ ...base, currentLabel: null, prediction: null });
    expect(unlabelled).toMatchObject({ currentLabel: "unidentified", storedLabel: null });
    expect(toReviewCell(base).storedLabel).toBe("car_t");
  });

  it("carries whether the suggestion's model is the champion now (unsaid: not, so the page warns), and the reviewer's login", () => {
    const by = (isChampion?: boolean) => toReviewCell({ ...base, prediction: { ...base.prediction!, modelVersion: { id: "m1", name: "rcmnet", version: "v1", ...(isChampion === undefined ? {} : { isChampion }) } } });
    expect(by(true).ai?.fromChampion).toBe(true);
    expect(by(false).ai?.fromChampion).toBe(false);
    expect(by(undefined).ai?.fromChampion).toBe(false);
    // Withdrawn only when the API says an approved rollback withdrew it; unsaid counts as withdrawn.
    const withdrawnBy = (withdrawn?: boolean) => toReviewCell({ ...base, prediction: { ...base.prediction!, modelVersion: { id: "m1", name: "rcmnet", version: "v1", isChampion: false, ...(withdrawn === undefined ? {} : { withdrawn }) } } });
    expect(withdrawnBy(false).ai?.withdrawn).toBe(false);
    expect(withdrawnBy(true).ai?.withdrawn).toBe(true);
    expect(withdrawnBy(undefined).ai?.withdrawn).toBe(true);
    const decided = toReviewCell({
      ...base,
      humanDecided: true,
      reviewCount: 1,
      reviews: [{ seq: 1, action: "CONFIRM", label: "car_t", previousLabel: "car_t", reason: null, reportVersion: 0, createdAt: "t1", reviewer: { login: "hema1", displayName: "Dr H" } }],
    });
    expect(decided.decision).toMatchObject({ reviewer: "Dr H", reviewerLogin: "hema1", reportVersion: 0 });
  });

  it("names the model by name and version, else by a short id", () => {
    expect(toReviewCell(base).ai?.modelVersion).toBe("rcmnet v1");
    const unnamed = { ...base, prediction: { ...base.prediction!, modelVersionId: "0123456789abcdef", modelVersion: null } };
    expect(toReviewCell(unnamed).ai?.modelVersion).toBe("model 01234567");
  });

  it("takes the latest review as the human decision", () => {
    const c = toReviewCell({
      ...base,
      humanDecided: true,
      reviewCount: 2,
      reviews: [
        { seq: 2, action: "RECLASSIFY", label: "lymphocyte", previousLabel: "car_t", reason: "small", reportVersion: 0, createdAt: "t2", reviewer: { login: "h", displayName: "Dr H" } },
        { seq: 1, action: "CONFIRM", label: "car_t", previousLabel: null, reason: null, reportVersion: 0, createdAt: "t1", reviewer: { login: "h", displayName: "Dr H" } },
      ],
    });
    expect(c.currentLabel).toBe("lymphocyte");
    expect(c.decision).toMatchObject({ action: "RECLASSIFY", label: "lymphocyte", reason: "small", reviewer: "Dr H", reportVersion: 0 });
    // In an amendment (1 signed version) this decision belongs to signed version 1; one made in
    // the amendment belongs to none.
    expect(signedVersionOf(c.decision!, 1)).toBe(1);
    expect(signedVersionOf({ ...c.decision!, reportVersion: 1 }, 1)).toBeNull();
    expect(signedVersionOf(c.decision!, 0)).toBeNull();
    // The label signed in version 1: the last decision before it.
    expect(c.roundLabels).toEqual({ 0: "lymphocyte" });
    const amended = toReviewCell({
      ...base,
      humanDecided: true,
      reviewCount: 3,
      reviews: [
        { seq: 3, action: "CONFIRM", label: "car_t", previousLabel: "car_t", reason: null, reportVersion: 1, createdAt: "t3", reviewer: { login: "h", displayName: "Dr H" } },
        { seq: 2, action: "RECLASSIFY", label: "car_t", previousLabel: "lymphocyte", reason: "CAR-T", reportVersion: 1, createdAt: "t2", reviewer: { login: "h", displayName: "Dr H" } },
        { seq: 1, action: "RECLASSIFY", label: "lymphocyte", previousLabel: "car_t", reason: "small", reportVersion: 0, createdAt: "t1", reviewer: { login: "h", displayName: "Dr H" } },
      ],
    });
    expect(signedLabelOf(amended, 1)).toBe("lymphocyte");
    expect(signedLabelOf(amended, 2)).toBe("car_t");
    expect(signedLabelOf(toReviewCell(base), 1)).toBeNull();
  });

  it("orders labels canonically, whatever the models register, then the review categories", () => {
    const cells = [toReviewCell({ ...base, prediction: { ...base.prediction!, abstained: false, label: "monocyte" } })];
    expect(labelList(["lymphocyte", "car_t"], cells)).toEqual(["car_t", "lymphocyte", "monocyte", "blast", "unidentified", "artifact"]);
    // Blast is always offered: no model has the class, a hematologist may always record one.
    expect(labelList([], [])).toEqual(["blast", "unidentified", "artifact"]);
    // A PBC model registered beside the CAR-T one: the CAR-T model's classes keep keys 1-5.
    const demo = ["car_t", "eosinophil", "lymphocyte", "monocyte", "neutrophil"];
    const pbc = ["basophil", "eosinophil", "erythroblast", "ig", "lymphocyte", "monocyte", "neutrophil", "platelet"];
    const alone = labelList(demo, []);
    const both = labelList([...new Set([...demo, ...pbc])].sort(), []);
    expect(both.slice(0, 5)).toEqual(alone.slice(0, 5));
    // Blast after IG, before erythroblast, as a manual differential lists it.
    expect(both).toEqual(["car_t", "lymphocyte", "neutrophil", "monocyte", "eosinophil", "basophil", "ig", "blast", "erythroblast", "platelet", "unidentified", "artifact"]);
    // Keys are fixed per label, not per position: unidentified and artifact keep 0 and - too, and
    // blast, among the classes, takes a letter, so that erythroblast and platelet keep 8 and 9.
    expect(alone.map(labelKey)).toEqual(["1", "2", "3", "4", "5", "b", "0", "-"]);
    expect(both.map(labelKey)).toEqual(["1", "2", "3", "4", "5", "6", "7", "b", "8", "9", "0", "-"]);
    expect(new Set(both.map(labelKey)).size).toBe(both.length);
    expect(labelKey("zeta")).toBeNull();
    // Labels outside the canonical list come after it, alphabetically; review categories stay last.
    expect(labelList(["zeta", "artifact"], [])).toEqual(["blast", "zeta", "unidentified", "artifact"]);
  });

  it("names labels for readers without changing the stored value", () => {
    expect(labelName("car_t")).toBe("CAR-T cell");
    expect(labelName("ig")).toBe("Immature granulocyte");
    expect(labelName("blast")).toBe("Blast / abnormal cell");
    expect(labelName("erythroblast")).toBe("Erythroblast");
    expect(labelName("large_granular-lymphocyte")).toBe("Large granular lymphocyte");
    expect(labelName("")).toBe("");
  });
});
