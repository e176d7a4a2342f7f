// Which cells the gallery's bulk action takes, under the API's review policy: CAR-T calls never,
// however confident the AI (the API refuses them in a multi-cell confirm; each is confirmed by
// looking at that cell).
import { describe, expect, it } from "vitest";
import { reviewCell } from "./testing";
import { aiPercentText, type BulkPolicy, bulkConfirmable, bulkConfirmQuestion, bulkConfirmTitle, bulkExcludedText, groupCells, groupSummary, isBulkExcluded } from "./model";

const LABELS = ["car_t", "lymphocyte", "neutrophil", "artifact"];
/** As Query.reviewPolicy serves it. */
const POLICY: BulkPolicy = { minConfidence: 0.8, excludedLabels: ["car_t"] };

const cell = reviewCell;

const confirmed = (label: string) => ({ decision: { action: "CONFIRM" as const, label, reviewer: "h", reason: null, at: "" }, reviewCount: 1 });

describe("bulk confirm and CAR-T calls", () => {
  const cells = [
    cell("cart-sure", "car_t", 0.99),
    cell("cart-edge", "car_t", 0.8),
    cell("cart-unsure", "car_t", 0.5),
    cell("cart-done", "car_t", 0.95, confirmed("car_t")),
    cell("lym-sure", "lymphocyte", 0.97),
    cell("lym-unsure", "lymphocyte", 0.6),
    cell("neu-sure", "neutrophil", 0.9),
  ];
  const groups = groupCells(LABELS, cells);
  const group = (label: string) => groups.find((g) => g.label === label)!;

  it("leaves every CAR-T call out, however confident, and takes the other confident calls", () => {
    expect(bulkConfirmable(group("car_t"), POLICY)).toEqual([]);
    expect(bulkConfirmable(group("lymphocyte"), POLICY)).toEqual(["lym-sure"]);
    expect(bulkConfirmable(group("neutrophil"), POLICY)).toEqual(["neu-sure"]);
    // Across the whole case: no CAR-T call in any bulk action.
    const taken = groups.flatMap((g) => bulkConfirmable(g, POLICY));
    expect(taken.sort()).toEqual(["lym-sure", "neu-sure"]);
  });

  it("counts the unreviewed cells left out for their label, so the heading can say why", () => {
    expect(groupSummary(group("car_t"), POLICY)).toEqual({ total: 4, unreviewed: 3, lowConfidence: 1, confirmable: [], excluded: 3 });
    expect(groupSummary(group("lymphocyte"), POLICY)).toMatchObject({ confirmable: ["lym-sure"], excluded: 0 });
    // All decided: nothing left out (nothing left to do).
    const done = groupCells(LABELS, [cell("x", "car_t", 0.9, confirmed("car_t"))])[0]!;
    expect(groupSummary(done, POLICY)).toMatchObject({ unreviewed: 0, excluded: 0, confirmable: [] });
    expect(bulkExcludedText("car_t")).toBe("CAR-T cell calls are confirmed one by one");
  });

  it("follows the labels the API serves, not a copy of its own", () => {
    // However the registered models spell the class, the API serves each spelling.
    const spelled: BulkPolicy = { minConfidence: 0.8, excludedLabels: ["CAR-T", "car_t"] };
    const other = groupCells(["CAR-T", "lymphocyte"], [cell("a", "CAR-T", 0.95), cell("b", "lymphocyte", 0.95)]);
    expect(other.map((g) => bulkConfirmable(g, spelled))).toEqual([[], ["b"]]);
    expect(isBulkExcluded("CAR-T", spelled)).toBe(true);
    expect(isBulkExcluded("lymphocyte", spelled)).toBe(false);
    // A policy excluding nothing would take the confident CAR-T calls: the page has no list of its own.
    expect(bulkConfirmable(group("car_t"), { minConfidence: 0.8, excludedLabels: [] }).sort()).toEqual(["cart-edge", "cart-sure"]);
  });

  it("leaves out a cell whose confident AI call contradicts the label shown (a CAR-T call shown as lymphocyte), as the API refuses it", () => {
    // Its confidence is evidence against the label being confirmed, whatever classes the policy
    // excludes; a lymphocyte call shown as such is a bulk candidate.
    const group = { label: "lymphocyte", cells: [cell("p", "lymphocyte", 0.9), cell("q", "lymphocyte", 0.9, { ai: { label: "car_t", confidence: 0.9, abstained: false, modelVersion: "m@1", fromChampion: true, withdrawn: false } })] };
    expect(bulkConfirmable(group, POLICY)).toEqual(["p"]);
    expect(bulkConfirmable(group, { minConfidence: 0.8, excludedLabels: [] })).toEqual(["p"]);
  });

  it("says in the button's tooltip what it takes: a model a promotion replaced still, a model a rollback withdrew not", () => {
    const call = (modelVersion: string, fromChampion: boolean, withdrawn: boolean) => ({ ai: { label: "lymphocyte", confidence: 0.95, abstained: false, modelVersion, fromChampion, withdrawn } });
    const group = {
      label: "lymphocyte",
      cells: [cell("champion", "lymphocyte", 0.95), cell("replaced", "lymphocyte", 0.95, call("rcmnet 1.1", false, false)), cell("withdrawn", "lymphocyte", 0.95, call("rcmnet 1.0", false, true))],
    };
    expect(bulkConfirmable(group, POLICY)).toEqual(["champion", "replaced"]);
    const title = bulkConfirmTitle(POLICY.minConfidence);
    expect(title).toBe(
      "Confirm the unreviewed cells of this group whose label is a confident call (at least 80%) of the model that suggested it, the champion or an earlier model a promotion replaced; " +
        "cells under that confidence, abstentions, cells without an AI call, calls of a model a rollback withdrew and CAR-T calls are left to decide one by one",
    );
    // Not "of the champion model" only, nor every model no longer champion left out.
    expect(title).not.toMatch(/no longer champion|of the champion model/);
  });
});

describe("the bulk-confirm question", () => {
  it("names the least certain call as its tile writes it, rounded down: a tile's 85% is not the question's 86%", () => {
    const q = bulkConfirmQuestion([cell("a", "lymphocyte", 0.97), cell("b", "lymphocyte", 0.856), cell("c", "lymphocyte", 0.9)]);
    expect(q.message).toBe("Each is recorded as your decision that the AI's label is right. The least certain of them has AI confidence 85%.");
    expect(aiPercentText(0.856)).toBe("85%");
    expect(q).toMatchObject({ title: "Confirm 3 cells as Lymphocyte?", confirm: "Confirm 3" });
    expect(bulkConfirmQuestion([cell("a", "neutrophil", 0.999)]).message).toMatch(/AI confidence 99%\.$/);
  });

  it("rounds down, never below the figure stored: 0.796 is 79% (under an 80% threshold), 0.29 is 29%, not 28", () => {
    expect(aiPercentText(0.796)).toBe("79%");
    expect(aiPercentText(0.7999999)).toBe("79%");
    expect(aiPercentText(0.29)).toBe("29%");
    expect(aiPercentText(0.57)).toBe("57%");
    expect(aiPercentText(1)).toBe("100%");
    expect(aiPercentText(0)).toBe("0%");
  });
});
