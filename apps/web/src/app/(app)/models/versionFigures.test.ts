import { describe, expect, it } from "vitest";
import { versionFigures } from "./versionFigures";

const confusion = {
  labels: ["lymphocyte", "neutrophil"],
  matrix: [
    [8, 2],
    [1, 9],
  ],
};
const validation = {
  accuracy: 0.85,
  macroF1: 0.84,
  perClass: { lymphocyte: { precision: 0.9, recall: 0.8, f1: 0.85, support: 10 } },
  confusion,
};

describe("versionFigures", () => {
  it("shows a folder-registered model's validation figures, named as the trainer's validation split", () => {
    // modelRuntime's record of a model registered from a folder: no `test`, a `validation`.
    const f = versionFigures({ validation, history: [], training: { bestEpoch: 3 } });
    expect(f.source).toBe("VALIDATION");
    expect(f.name).toBe("validation split");
    expect(f.caveat).toMatch(/not a locked TEST part/);
    expect(f.figures.accuracy).toBe(0.85);
    expect(f.figures.macroF1).toBe(0.84);
    expect(Object.keys(f.figures.perClass)).toEqual(["lymphocyte"]);
    // Square, without predictedLabels: its columns are the labels.
    expect(f.figures.confusion).toEqual({ ...confusion, predictedLabels: confusion.labels });
  });

  it("does not say a folder-registered model has no TEST figures once it was evaluated on a snapshot", () => {
    const f = versionFigures({ validation, evaluations: { "snapshot-1": { accuracy: 0.8 } } });
    expect(f.source).toBe("VALIDATION");
    expect(f.caveat).not.toMatch(/No TEST figures/);
    expect(f.caveat).toMatch(/per snapshot, under Compare/);
  });

  it("prefers TEST figures whenever they are recorded", () => {
    const f = versionFigures({ test: { accuracy: 0.7, macroF1: 0.6 }, validation });
    expect(f).toMatchObject({ source: "TEST", name: "test", caveat: null });
    expect(f.figures.accuracy).toBe(0.7);
  });

  it("shows empty TEST figures when nothing is recorded", () => {
    for (const raw of [null, {}, { validation: null }]) {
      const f = versionFigures(raw);
      expect(f.source).toBe("TEST");
      expect(f.figures).toEqual({ accuracy: null, macroF1: null, confusion: null, perClass: {} });
    }
  });
});
