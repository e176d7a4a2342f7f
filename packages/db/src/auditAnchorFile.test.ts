// The anchor file's lines: what the writer appends reads back, a crash's torn line is told apart
// from a line something else changed.
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
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

  it("reads the interval a writer declares; heartbeats (one head on several lines) are anchors, not problems", () => {
    const declared = { ...anchor(1), everyMinutes: 10 };
    const line = formatAnchorLine(declared);
    expect(line).toBe(`{"seq":"1","hash":"${anchor(1).hash}","at":"2026-11-27T10:00:01.000Z","writtenAt":"2026-11-27T10:05:01.000Z","everyMinutes":10}\n`);
    const heartbeat = formatAnchorLine({ ...declared, writtenAt: new Date(Date.UTC(2026, 10, 27, 10, 15, 1)) });
    expect(parseAnchorFile(line + heartbeat + heartbeat)).toEqual({
      anchors: [
        { ...declared, line: 1 },
        { ...declared, writtenAt: new Date(Date.UTC(2026, 10, 27, 10, 15, 1)), line: 2 },
        { ...declared, writtenAt: new Date(Date.UTC(2026, 10, 27, 10, 15, 1)), line: 3 },
      ],
      problems: [],
    });
    // No interval a writer could have had (0 writes no lines; at most a day): not the writer's line.
    for (const everyMinutes of [0, -1, 2.5, 1441, "10", null]) {
      const edited = line.replace('"everyMinutes":10', `"everyMinutes":${JSON.stringify(everyMinutes)}`);
      expect(parseAnchorFile(edited).problems, String(everyMinutes)).toEqual(["line 1 of the anchor file is unreadable"]);
    }
    expect(parseAnchorFile(line.replace('"everyMinutes":10', '"everyMinutes":1440')).problems).toEqual([]);
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

  it("marks a clean stop's line, and reads back only `stop: true` as such", () => {
    const line = formatAnchorLine({ ...anchor(1), everyMinutes: 10, stop: true });
    expect(line).toMatch(/,"everyMinutes":10,"stop":true\}\n$/);
    expect(parseAnchorFile(line).anchors).toEqual([{ ...anchor(1), everyMinutes: 10, stop: true, line: 1 }]);
    expect(parseAnchorFile(formatAnchorLine(anchor(1))).anchors[0]).not.toHaveProperty("stop");
    // Anything else in its place is not the writer's line.
    expect(parseAnchorFile(line.replace('"stop":true', '"stop":"yes"')).problems).toEqual(["line 1 of the anchor file is unreadable"]);
  });

  it("reads no file as none found, without a problem", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rcmnet-anchors-"));
    try {
      expect(await readAnchorFile(join(dir, "audit-anchors.jsonl"))).toMatchObject({ anchors: [], problems: [], found: false, anchorCount: 0 });
      await writeFile(join(dir, "audit-anchors.jsonl"), formatAnchorLine(anchor(4)));
      expect(await readAnchorFile(join(dir, "audit-anchors.jsonl"))).toEqual({
        anchors: [{ ...anchor(4), line: 1 }],
        problems: [],
        found: true,
        whole: true,
        anchorCount: 1,
        headCount: 1,
        end: { bytes: formatAnchorLine(anchor(4)).length, lines: 1, anchors: 1, heads: 1, lastHead: `4:${anchor(4).hash}` },
      });
      // A folder where the file should be: said, not taken for a missing file.
      expect((await readAnchorFile(dir)).problems).toEqual(["the anchor file could not be read (EISDIR)"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("reading the anchor file's tail", () => {
  it("reads only the last bytes after an earlier reading, counting the anchors written since; whole again if the file no longer reaches it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rcmnet-anchors-"));
    const path = join(dir, "audit-anchors.jsonl");
    // Seqs of one length (100 on), so that every line has the same length.
    const a = (n: number) => anchor(99 + n);
    const lineBytes = formatAnchorLine(a(1)).length;
    try {
      await writeFile(path, Array.from({ length: 50 }, (_, i) => formatAnchorLine(a(i + 1))).join(""));
      const whole = await readAnchorFile(path);
      expect(whole).toMatchObject({ whole: true, anchorCount: 50, end: { bytes: 50 * lineBytes, lines: 50, anchors: 50 } });

      // Three more, one torn mid-write: ~2.5 lines' worth of tail is read, and the count goes on.
      await appendFile(path, formatAnchorLine(a(51)) + formatAnchorLine(a(52)) + formatAnchorLine(a(53)).slice(0, 40));
      const tail = await readAnchorFile(path, { after: whole.end, tailBytes: Math.floor(3.5 * lineBytes) });
      expect(tail).toMatchObject({ whole: false, found: true, problems: [], anchorCount: 52, end: { bytes: 52 * lineBytes, lines: 52, anchors: 52 } });
      // The first line in range was cut: dropped; the torn one is no anchor.
      expect(tail.anchors.map((a) => [a.seq, a.line])).toEqual([
        [149n, 50],
        [150n, 51],
        [151n, 52],
      ]);
      // An unreadable line is not looked for in a tail reading (full walks read the file whole).
      await appendFile(path, `\n{"seq":"x"}\n${formatAnchorLine(a(54), { afterTornLine: true })}`);
      const next = await readAnchorFile(path, { after: tail.end });
      expect(next).toMatchObject({ whole: false, problems: [], anchorCount: 53, headCount: 53, end: { lines: 55, anchors: 53, heads: 53 } });
      expect(next.anchors.at(-1)).toMatchObject({ seq: 153n, line: 55 });
      // Heartbeats (the head repeated) are lines but no new head, also across the earlier end.
      await appendFile(path, formatAnchorLine(a(54)) + formatAnchorLine(a(54)) + formatAnchorLine(a(55)));
      const beats = await readAnchorFile(path, { after: next.end });
      expect(beats).toMatchObject({ whole: false, anchorCount: 56, headCount: 54, end: { anchors: 56, heads: 54 } });
      expect(await readAnchorFile(path)).toMatchObject({ whole: true, anchorCount: 56, headCount: 54 });

      // Truncated below the earlier end: read whole, and counted anew.
      await writeFile(path, formatAnchorLine(a(1)));
      expect(await readAnchorFile(path, { after: next.end })).toMatchObject({ whole: true, anchorCount: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
