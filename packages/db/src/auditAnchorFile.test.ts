// The anchor file's lines: what the writer appends reads back, a crash's torn line is told apart
// from a line something else changed.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type AuditAnchor, formatAnchorLine, parseAnchorFile, readAnchorFile } from "./auditAnchorFile.ts";

const anchor = (seq: number): AuditAnchor => ({
  seq: BigInt(seq),
  hash: seq.toString(16).padStart(64, "a"),
  at: new Date(Date.UTC(2026, 10, 27, 10, 0, seq)),
  writtenAt: new Date(Date.UTC(2026, 10, 27, 10, 5, seq)),
});

describe("anchor file lines", () => {
  it("reads back what the writer appends, seq as a string (a bigint)", () => {
    const line = formatAnchorLine({ ...anchor(1), seq: 9007199254740993n });
    expect(line).toBe(`{"seq":"9007199254740993","hash":"${anchor(1).hash}","at":"2026-11-27T10:00:01.000Z","writtenAt":"2026-11-27T10:05:01.000Z"}\n`);
    const { anchors, problems } = parseAnchorFile(line + formatAnchorLine(anchor(2)));
    expect(problems).toEqual([]);
    expect(anchors).toEqual([
      { ...anchor(1), seq: 9007199254740993n, line: 1 },
      { ...anchor(2), line: 2 },
    ]);
  });

  it("ignores a torn last line, and a torn line the next write closed; reports any other unreadable line", () => {
    const torn = formatAnchorLine(anchor(2)).slice(0, 30);
    expect(parseAnchorFile(formatAnchorLine(anchor(1)) + torn)).toEqual({ anchors: [{ ...anchor(1), line: 1 }], problems: [] });
    // The writer found the file without its newline: it closed the line and said so.
    const closed = `${formatAnchorLine(anchor(1))}${torn}\n${formatAnchorLine(anchor(3), { afterTornLine: true })}`;
    expect(parseAnchorFile(closed)).toEqual({ anchors: [{ ...anchor(1), line: 1 }, { ...anchor(3), line: 3 }], problems: [] });
    // The same fragment with no such mark after it, or a whole line changed: not a crash's doing.
    expect(parseAnchorFile(`${formatAnchorLine(anchor(1))}${torn}\n${formatAnchorLine(anchor(3))}`).problems).toEqual([
      "line 2 of the anchor file is unreadable",
    ]);
    const edited = formatAnchorLine(anchor(1)) + formatAnchorLine(anchor(2)).replace(/"hash":"a/, '"hash":"X') + formatAnchorLine(anchor(3));
    expect(parseAnchorFile(edited)).toEqual({
      anchors: [{ ...anchor(1), line: 1 }, { ...anchor(3), line: 3 }],
      problems: ["line 2 of the anchor file is unreadable"],
    });
    // A last line that is complete (it has its newline) but unreadable was not torn.
    expect(parseAnchorFile(`${formatAnchorLine(anchor(1))}{"seq":"2"}\n`).problems).toEqual(["line 2 of the anchor file is unreadable"]);
    expect(parseAnchorFile("")).toEqual({ anchors: [], problems: [] });
  });

  it("reads no file as none found, without a problem", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rcmnet-anchors-"));
    try {
      expect(await readAnchorFile(join(dir, "audit-anchors.jsonl"))).toEqual({ anchors: [], problems: [], found: false });
      await writeFile(join(dir, "audit-anchors.jsonl"), formatAnchorLine(anchor(4)));
      expect(await readAnchorFile(join(dir, "audit-anchors.jsonl"))).toEqual({ anchors: [{ ...anchor(4), line: 1 }], problems: [], found: true });
      // A folder where the file should be: said, not taken for a missing file.
      expect((await readAnchorFile(dir)).problems).toEqual(["the anchor file could not be read (EISDIR)"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
