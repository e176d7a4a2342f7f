import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeItemCalls, encodeItemCalls, itemOrderSha256 } from "./itemCalls.ts";

const call = (label: string, abstained = false) => ({ label, abstained });

describe("each TEST item's call, kept with an evaluation", () => {
  it("reads back what was called, an abstention as null, in order", () => {
    const ids = ["c1", "c2", "c3", "c4"];
    const truth = ["lymphocyte", "car_t", "car_t", "neutrophil"];
    const stored = encodeItemCalls(ids, truth, [call("lymphocyte"), call("lymphocyte"), call("car_t", true), call("eosinophil")]);
    // Codes into one table of the labels seen, "0" the abstention; one character each.
    expect(stored).toMatchObject({ format: 1, labels: ["car_t", "eosinophil", "lymphocyte", "neutrophil"], width: 1, truth: "3114", called: "3302" });
    expect(stored.itemsSha256).toBe(itemOrderSha256(ids));
    // Through JSON, as the database keeps it.
    expect(decodeItemCalls(JSON.parse(JSON.stringify(stored)))).toEqual({
      itemsSha256: itemOrderSha256(ids),
      truth,
      called: ["lymphocyte", "lymphocyte", null, "eosinophil"],
    });
  });

  it("hash the order of the items, not only which they are", () => {
    expect(itemOrderSha256(["a", "b"])).not.toBe(itemOrderSha256(["b", "a"]));
    // Ids are separated: "ab" + "c" is not "a" + "bc".
    expect(itemOrderSha256(["ab", "c"])).not.toBe(itemOrderSha256(["a", "bc"]));
    expect(itemOrderSha256([])).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("take two characters an item past 63 labels", () => {
    const labels = Array.from({ length: 70 }, (_, i) => `class${String(i).padStart(2, "0")}`);
    const called = labels.map((_, i) => (i === 5 ? null : labels[69 - i]!));
    const stored = encodeItemCalls(labels.map((l) => `id-${l}`), labels, called.map((c) => (c === null ? call("class00", true) : call(c))));
    expect(stored.width).toBe(2);
    expect(stored.truth).toHaveLength(140);
    expect(decodeItemCalls(stored)).toMatchObject({ truth: labels, called });
  });

  it("stay small for a few thousand TEST cells: about 2 bytes a cell", () => {
    const n = 5000;
    const classes = ["basophil", "car_t", "eosinophil", "erythroblast", "ig", "lymphocyte", "monocyte", "neutrophil", "platelet"];
    const ids = Array.from({ length: n }, () => randomUUID()).sort();
    const truth = ids.map((_, i) => classes[i % classes.length]!);
    const predicted = truth.map((t, i) => (i % 7 === 0 ? call(classes[(i + 1) % classes.length]!) : call(t, i % 11 === 0)));
    const json = JSON.stringify(encodeItemCalls(ids, truth, predicted));
    expect(json.length).toBeLessThan(2 * n + 400);
    expect(json.length).toBeGreaterThan(2 * n);
  });

  it("refuse to read a record they did not write, rather than pair the wrong cells", () => {
    const good = encodeItemCalls(["a", "b"], ["x", "y"], [call("x"), call("z", true)]);
    expect(decodeItemCalls(undefined)).toBe("absent");
    expect(decodeItemCalls(null)).toBe("absent");
    for (const bad of [
      "text",
      [],
      { ...good, format: 2 },
      { ...good, itemsSha256: "abc" },
      { ...good, labels: [1, 2] },
      // A width that is not the table's.
      { ...good, width: 2 },
      // Truth and calls of different lengths.
      { ...good, called: "1" },
      // A code outside the table (2 labels: codes 0-2).
      { ...good, called: "13" },
      // A character outside the alphabet.
      { ...good, called: "1!" },
      // An abstention as a true label.
      { ...good, truth: "01" },
    ]) {
      expect(decodeItemCalls(bad), JSON.stringify(bad)).toBe("unreadable");
    }
    expect(() => encodeItemCalls(["a"], ["x", "y"], [call("x"), call("y")])).toThrow(/length/);
  });
});
