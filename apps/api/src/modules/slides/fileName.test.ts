import { describe, expect, it } from "vitest";
import { MAX_FILE_NAME_CHARS, uploadedFileName } from "./fileName.ts";

describe("uploadedFileName", () => {
  it("keeps an ordinary name, accents and spaces included", () => {
    expect(uploadedFileName("field 01.jpg")).toBe("field 01.jpg");
    expect(uploadedFileName("frottis café.png")).toBe("frottis café.png");
  });

  it("keeps the base name of a Windows or POSIX path", () => {
    expect(uploadedFileName("C:\\scans\\2026\\a.jpg")).toBe("a.jpg");
    expect(uploadedFileName("../../etc/b.png")).toBe("b.png");
  });

  it("removes control characters and the bidirectional overrides that disguise an extension", () => {
    expect(uploadedFileName("scan\u202Egpj.exe")).toBe("scangpj.exe");
    expect(uploadedFileName("a\u0000b\u0007c\u009b.jpg")).toBe("abc.jpg");
    expect(uploadedFileName("line\r\nbreak.jpg")).toBe("line break.jpg");
  });

  it("removes every invisible format character, and composes accents, so that names that look alike are alike", () => {
    expect(uploadedFileName("MRN\u061C12-34.jpg")).toBe("MRN12-34.jpg");
    expect(uploadedFileName("a\u200Bb\u200Dc\u2060d\u00ADe\u180Ef\uFFF9.jpg")).toBe("abcdef.jpg");
    // A byte-order mark is white space to JavaScript: it becomes a visible space.
    expect(uploadedFileName("a\uFEFFb.jpg")).toBe("a b.jpg");
    expect(uploadedFileName("x\u{E0041}\u{E007F}.png")).toBe("x.png");
    expect(uploadedFileName("cafe\u0301.jpg")).toBe("caf\u00e9.jpg");
    expect(uploadedFileName("a\u2028b.jpg")).toBe("a b.jpg");
  });

  it("gives null when nothing is left", () => {
    for (const raw of [undefined, null, "", "   ", "dir/", "\u202E\u0000", "C:\\"]) expect(uploadedFileName(raw)).toBeNull();
  });

  it("cuts a long name between characters, not inside one", () => {
    const long = `${"é".repeat(150)}${"😀".repeat(100)}.jpg`;
    const kept = uploadedFileName(long)!;
    expect(Array.from(kept)).toHaveLength(MAX_FILE_NAME_CHARS);
    expect(kept.endsWith("😀")).toBe(true);
    // A lone half of a surrogate pair would not survive UTF-8 (it becomes U+FFFD).
    expect(Buffer.from(kept).toString()).toBe(kept);
  });
});
