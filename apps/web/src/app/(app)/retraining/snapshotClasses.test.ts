import { describe, expect, it } from "vitest";
import { classRows, FEW_TEST_CELLS } from "./snapshotClasses";

describe("a snapshot's cells per class", () => {
  it("lists the label set in order, then labels found only in the counts, with what to watch", () => {
    const rows = classRows(["car_t", "lymphocyte", "basophil"], {
      car_t: { TRAIN: 70, VAL: 15, TEST: 15 },
      lymphocyte: { TRAIN: 40, VAL: 5, TEST: 3 },
      eosinophil: { TRAIN: 0, VAL: 0, TEST: 2 },
    });
    expect(rows.map((r) => r.label)).toEqual(["car_t", "lymphocyte", "basophil", "eosinophil"]);
    expect(rows[0]).toEqual({ label: "car_t", train: 70, val: 15, test: 15, warning: null });
    expect(rows[1]!.warning).toBe("only 3 test cells: its recall is imprecise");
    expect(rows[2]!.warning).toBe("no training cells: cannot be learned from this snapshot");
    expect(rows[3]!.warning).toMatch(/no training cells/);
  });

  it("says untested for a class with training cells and none in TEST, and reads bad JSON as zero", () => {
    expect(classRows(["a"], { a: { TRAIN: 5, VAL: 1, TEST: 0 } })[0]!.warning).toBe("no test cells: untested");
    expect(classRows(["a"], { a: { TRAIN: 5, TEST: FEW_TEST_CELLS } })[0]!.warning).toBeNull();
    expect(classRows(["a"], null)[0]).toMatchObject({ train: 0, val: 0, test: 0 });
    expect(classRows(["a"], { a: { TRAIN: "7", TEST: -1, VAL: Number.NaN } })[0]).toMatchObject({ train: 0, val: 0, test: 0 });
  });
});
