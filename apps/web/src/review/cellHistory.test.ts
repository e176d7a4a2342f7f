import { describe, expect, it } from "vitest";
import { cellHistory, historyGaps, type ApiPrediction } from "./cellHistory";
import { latestDecision, type ApiReview } from "./mapping";

const champion = { id: "m3", name: "rcmnet", version: "v3", isChampion: true, withdrawn: false };
const succeeded = { id: "m2", name: "rcmnet", version: "v2", isChampion: false, withdrawn: false };
const rolledBack = { id: "m1", name: "rcmnet", version: "v1", isChampion: false, withdrawn: true };

function prediction(id: string, at: string, over: Partial<ApiPrediction> = {}): ApiPrediction {
  return { id, label: "neutrophil", confidence: 0.97, abstained: false, createdAt: at, modelVersionId: champion.id, modelVersion: champion, ...over };
}

function review(seq: number, at: string, over: Partial<ApiReview> = {}): ApiReview {
  return {
    seq,
    action: "CONFIRM",
    label: "neutrophil",
    previousLabel: "neutrophil",
    reason: null,
    reportVersion: 0,
    createdAt: at,
    reviewer: { login: "hema", displayName: "Dr. Hana Hematologist" },
    ...over,
  };
}

describe("a cell's history", () => {
  it("merges AI calls and human decisions, newest first, worded for a reader", () => {
    const h = cellHistory({
      // The API's order: newest first.
      predictions: [prediction("p2", "2026-11-20T12:04:00.000Z"), prediction("p1", "2026-11-19T09:00:00.000Z", { label: "lymphocyte", confidence: 0.61, modelVersionId: succeeded.id, modelVersion: succeeded })],
      reviews: [
        review(1, "2026-11-20T12:10:00.000Z"),
        review(2, "2026-11-20T12:30:00.000Z", {
          action: "RECLASSIFY",
          label: "ig",
          previousLabel: "neutrophil",
          reason: "granules",
          reviewer: { login: "hema2", displayName: "Dr. Yusuf" },
        }),
      ],
    });
    expect(h.map((e) => [e.kind, e.text, e.when])).toEqual([
      ["human", "Changed Neutrophil → Immature granulocyte by Dr. Yusuf · reason ‘granules’ · for report v1", "2026-11-20 12:30:00 UTC"],
      ["human", "Confirmed as Neutrophil by Dr. Hana Hematologist · for report v1", "2026-11-20 12:10:00 UTC"],
      ["ai", "rcmnet v3 · Neutrophil 97.0%", "2026-11-20 12:04:00 UTC"],
      ["ai", "rcmnet v2 (no longer champion) · Lymphocyte 61.0%", "2026-11-19 09:00:00 UTC"],
    ]);
    expect(h.map((e) => e.marker)).toEqual([null, null, null, "no longer champion"]);
  });

  it("says a decision's reason is withheld where the API withholds it from the reader's role, and nothing where none was given", () => {
    const h = cellHistory({
      predictions: [],
      reviews: [
        review(1, "2026-11-20T12:10:00.000Z"),
        review(2, "2026-11-20T12:30:00.000Z", { action: "RECLASSIFY", label: "artifact", reason: null, reasonWithheld: true }),
      ],
    });
    expect(h.map((e) => e.text)).toEqual([
      "Changed Neutrophil → Artifact by Dr. Hana Hematologist · reason withheld for your role · for report v1",
      "Confirmed as Neutrophil by Dr. Hana Hematologist · for report v1",
    ]);
    expect(latestDecision([review(1, "2026-11-20T12:10:00.000Z", { reasonWithheld: true })])).toMatchObject({ reason: null, reasonWithheld: true });
  });

  it("orders by time, not by the form the API wrote it in", () => {
    const h = cellHistory({ predictions: [prediction("p1", "2026-11-20T13:00:00+01:00")], reviews: [review(1, "2026-11-20T12:30:00.000Z")] });
    expect(h.map((e) => e.kind)).toEqual(["human", "ai"]);
  });

  it("breaks ties: a decision above the AI call it answers, later reviews above earlier, predictions in the API's order", () => {
    const at = "2026-11-20T12:00:00.000Z";
    const h = cellHistory({
      predictions: [prediction("pB", at), prediction("pA", at)],
      reviews: [review(3, at), review(5, at), review(4, at)],
    });
    expect(h.map((e) => e.key)).toEqual(["review-5", "review-4", "review-3", "ai-pB", "ai-pA"]);
  });

  it("keeps decisions in their database order when the API hosts' clocks disagree", () => {
    // Decision 2 was stamped by a host whose clock runs behind the one that stamped decision 1.
    const h = cellHistory({
      predictions: [prediction("p1", "2026-11-20T12:00:00.000Z")],
      reviews: [review(1, "2026-11-20T12:10:00.000Z"), review(2, "2026-11-20T12:09:59.000Z", { action: "RECLASSIFY", label: "ig" })],
    });
    expect(h.map((e) => e.key)).toEqual(["review-2", "review-1", "ai-p1"]);
  });

  it("says what an abstention was: unidentified, with the model's best guess", () => {
    const [e] = cellHistory({ predictions: [prediction("p1", "2026-11-20T12:00:00.000Z", { label: "car_t", confidence: 0.4199, abstained: true })], reviews: [] });
    expect(e!.text).toBe("rcmnet v3 · abstained → unidentified (best guess CAR-T cell 41.9%)");
  });

  it("marks calls of a withdrawn model, and of one the API did not say is in service", () => {
    const h = cellHistory({
      predictions: [
        prediction("p2", "2026-11-20T12:00:00.000Z", { modelVersionId: rolledBack.id, modelVersion: rolledBack }),
        prediction("p1", "2026-11-19T12:00:00.000Z", { modelVersionId: "0123456789abcdef", modelVersion: null }),
      ],
      reviews: [],
    });
    expect(h.map((e) => [e.text, e.marker])).toEqual([
      ["rcmnet v1 (withdrawn) · Neutrophil 97.0%", "withdrawn"],
      ["model 01234567 (withdrawn) · Neutrophil 97.0%", "withdrawn"],
    ]);
  });

  it("names the report version of an amendment's decision (Review.reportVersion counts earlier signatures)", () => {
    const h = cellHistory({
      predictions: [],
      reviews: [
        review(1, "2026-11-20T12:00:00.000Z"),
        review(2, "2026-11-22T08:00:00.000Z", { action: "RECLASSIFY", label: "monocyte", previousLabel: "neutrophil", reason: "Second look", reportVersion: 1 }),
        review(3, "2026-11-25T08:00:00.000Z", { reportVersion: 2, label: "monocyte", previousLabel: "monocyte" }),
      ],
    });
    expect(h.map((e) => [e.text, e.amendment])).toEqual([
      ["Confirmed as Monocyte by Dr. Hana Hematologist · amendment, for report v3", true],
      ["Changed Neutrophil → Monocyte by Dr. Hana Hematologist · reason ‘Second look’ · amendment, for report v2", true],
      ["Confirmed as Neutrophil by Dr. Hana Hematologist · for report v1", false],
    ]);
  });

  it("words a label given to a cell that had none (no AI call), and a confirmation with a reason", () => {
    const h = cellHistory({
      predictions: [],
      reviews: [
        review(1, "2026-11-20T12:00:00.000Z", { action: "RECLASSIFY", label: "artifact", previousLabel: null, reason: "Smudge" }),
        review(2, "2026-11-20T12:05:00.000Z", { label: "unidentified", previousLabel: "unidentified", reason: "Too degenerated" }),
      ],
    });
    expect(h.map((e) => e.text)).toEqual([
      "Confirmed as Unidentified by Dr. Hana Hematologist · reason ‘Too degenerated’ · for report v1",
      "Labelled Artifact by Dr. Hana Hematologist · reason ‘Smudge’ · for report v1",
    ]);
  });

  it("an empty cell: no entries, and both gaps said", () => {
    const empty = { predictions: [], reviews: [] };
    expect(cellHistory(empty)).toEqual([]);
    expect(historyGaps(empty)).toEqual(["Not analysed yet (no AI call)", "No human decision yet"]);
    expect(historyGaps({ predictions: [prediction("p1", "2026-11-20T12:00:00.000Z")], reviews: [] })).toEqual(["No human decision yet"]);
    expect(historyGaps({ predictions: [prediction("p1", "2026-11-20T12:00:00.000Z")], reviews: [review(1, "2026-11-20T12:05:00.000Z")] })).toEqual([]);
  });
});
