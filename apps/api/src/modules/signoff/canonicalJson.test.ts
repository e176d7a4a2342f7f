import { describe, expect, it } from "vitest";
import { canonicalJson, sha256OfContent } from "./canonicalJson.ts";

describe("canonicalJson", () => {
  it("does not depend on key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(sha256OfContent({ a: 1, b: 2 })).toBe(sha256OfContent({ b: 2, a: 1 }));
  });
  it("changes with any value", () => {
    expect(sha256OfContent({ a: 1 })).not.toBe(sha256OfContent({ a: 2 }));
  });
});
