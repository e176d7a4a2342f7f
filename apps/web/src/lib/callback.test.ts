import { describe, expect, it } from "vitest";
import { safeCallback } from "./callback";

describe("post-login redirect", () => {
  it("keeps same-site paths", () => {
    expect(safeCallback("/cases/1/review?x=1")).toBe("/cases/1/review?x=1");
    expect(safeCallback(["/audit", "/users"])).toBe("/audit");
  });
  it("refuses other sites and oddities", () => {
    for (const bad of ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "", undefined, "/a\r\nSet-Cookie: x", "/\t/evil.example", "/\n/evil.example", "/\u0000/x", "/\t\\evil.example"]) {
      expect(safeCallback(bad)).toBe("/worklist");
    }
  });
});
