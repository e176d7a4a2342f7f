import { describe, expect, it } from "vitest";
import { leftOutWarning, unidentifiedCount } from "./differential";

describe("leftOutWarning", () => {
  it("warns from a tenth of all cells left unidentified, counting every spelling", () => {
    expect(leftOutWarning(9, 100)).toBeNull();
    expect(leftOutWarning(10, 100)).toEqual({ count: 10, total: 100, percent: 10 });
    expect(leftOutWarning(4, 5)).toEqual({ count: 4, total: 5, percent: 80 });
    expect(leftOutWarning(0, 0)).toBeNull();
    expect(unidentifiedCount([{ label: "unidentified", count: 2 }, { label: "Unidentified", count: 1 }, { label: "artifact", count: 5 }])).toBe(3);
  });
});
