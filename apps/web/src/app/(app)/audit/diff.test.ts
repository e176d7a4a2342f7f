import { describe, expect, it } from "vitest";
import { diffEntries } from "./diff";

describe("audit before -> after", () => {
  it("lists changed keys first, then the unchanged ones, marked as such", () => {
    expect(diffEntries({ n: 1, label: "car_t" }, { n: 1, label: "lymphocyte" })).toEqual([
      { key: "label", before: "car_t", after: "lymphocyte", changed: true },
      { key: "n", before: "1", after: "1", changed: false },
    ]);
  });
  it("keeps a value that did not change: a confirmation shows the label it confirmed", () => {
    const entries = diffEntries({ label: "car_t", reviewCount: 0 }, { label: "car_t", reviewCount: 1 });
    expect(entries).toContainEqual({ key: "label", before: "car_t", after: "car_t", changed: false });
    expect(entries[0]).toEqual({ key: "reviewCount", before: "0", after: "1", changed: true });
  });
  it("lists every key, however many", () => {
    const before = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i]));
    expect(diffEntries(before, { ...before, k11: "x" }).map((e) => e.key)).toEqual(["k11", ...Array.from({ length: 11 }, (_, i) => `k${i}`)]);
  });
  it("shows creations and deletions", () => {
    expect(diffEntries(null, { status: "RECEIVED" })).toEqual([{ key: "status", before: "∅", after: "RECEIVED", changed: true }]);
    expect(diffEntries({ a: 1 }, null)).toEqual([{ key: "a", before: "1", after: "∅", changed: true }]);
    expect(diffEntries(null, null)).toEqual([]);
    expect(diffEntries("same", "same")).toEqual([{ key: "value", before: "same", after: "same", changed: false }]);
  });
});
