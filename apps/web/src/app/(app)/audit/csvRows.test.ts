import { describe, expect, it } from "vitest";
import { csvRowCounter } from "./csvRows";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("csvRowCounter", () => {
  it("counts the rows after the header, not the closing comment", () => {
    const c = csvRowCounter();
    expect(c.add(bytes("seq,at\r\n"))).toBe(0);
    expect(c.add(bytes("1,2026-01-01\r\n2,2026-01-02\r\n"))).toBe(2);
    expect(c.add(bytes("# rows=2 complete; RCMNet audit export\r\n"))).toBe(2);
  });

  it("does not count a line break inside a quoted field, nor a row not yet ended", () => {
    const c = csvRowCounter();
    c.add(bytes('seq,reason\r\n1,"first line\r\nsecond, ""quoted"" line"\r\n2,plain'));
    expect(c.rows).toBe(1);
    expect(c.add(bytes("\r\n"))).toBe(2);
  });

  it("counts the same whatever the chunks' boundaries (inside a quote, a CR LF, a multi-byte character)", () => {
    const text = 'seq,reason\r\n1,"a\r\nb"\r\n2,"ü ""x"""\r\n3,é\r\n# rows=3 complete\r\n';
    const all = bytes(text);
    for (let size = 1; size <= 7; size++) {
      const c = csvRowCounter();
      for (let i = 0; i < all.length; i += size) c.add(all.subarray(i, i + size));
      expect(c.rows).toBe(3);
    }
  });

  it("does not count empty lines", () => {
    const c = csvRowCounter();
    expect(c.add(bytes("seq\r\n\r\n1\r\n\n"))).toBe(1);
  });
});
