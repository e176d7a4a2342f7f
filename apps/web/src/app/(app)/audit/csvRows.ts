const QUOTE = 0x22;
const HASH = 0x23;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Counts the rows of a CSV export as its bytes arrive, for the page's progress: records ended by a
 * line break outside quotes (a reason may hold one inside), less the column header, and not the
 * closing "# rows=N complete; …" comment or an empty line. Byte by byte, without decoding: a
 * multi-byte UTF-8 character holds no quote or line break byte.
 */
export function csvRowCounter(): { add(chunk: Uint8Array): number; readonly rows: number } {
  let quoted = false;
  let lineStart = true;
  let comment = false;
  let content = false;
  let records = 0;
  const rows = () => Math.max(0, records - 1);
  return {
    add(chunk) {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (lineStart && b !== LF && b !== CR) {
          lineStart = false;
          comment = b === HASH;
        }
        if (b === QUOTE) quoted = !quoted;
        else if (b === LF && !quoted) {
          if (content && !comment) records++;
          lineStart = true;
          comment = false;
          content = false;
          continue;
        }
        if (b !== CR) content = true;
      }
      return rows();
    },
    get rows() {
      return rows();
    },
  };
}
