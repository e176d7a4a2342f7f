import { describe, expect, it } from "vitest";
import { diffEntries } from "./diff";

describe("audit before -> after", () => {
  it("lists changed keys only", () => {
    expect(diffEntries({ label: "car_t", n: 1 }, { label: "lymphocyte", n: 1 })).toEqual([{ key: "label", before: "car_t", after: "lymphocyte" }]);
  });
  it("shows creations and deletions", () => {
    expect(diffEntries(null, { status: "RECEIVED" })).toEqual([{ key: "status", before: "∅", after: "RECEIVED" }]);
    expect(diffEntries({ a: 1 }, null)).toEqual([{ key: "a", before: "1", after: "∅" }]);
    expect(diffEntries(null, null)).toEqual([]);
  });
});
