// The name an uploaded file had on the uploader's machine, made safe to store and show: a name
// shown beside an image in a clinical record must read as what it is.

/** Longest name kept, in characters (the database's CHECK says the same). */
export const MAX_FILE_NAME_CHARS = 200;

// Control characters (C0, DEL, C1) and every invisible format character: the bidirectional marks,
// overrides and isolates ("scan\u202Egpj.exe" displays as "scanexe.jpg"; an Arabic letter mark
// can swap digits: "MRN\u061C12-34"), zero-width spaces and joiners, soft hyphens, tag characters.
// Each lets two names that differ look the same, or one look like another.
const UNSAFE = /[\p{Cc}\p{Cf}]/gu;

/**
 * The base name (a browser sends only that, but another client may send "C:\\scans\\a.jpg" or a
 * path), in composed form (NFC: "é" typed on a Mac and on Windows is one name), without unsafe
 * characters, runs of white space as one space, at most MAX_FILE_NAME_CHARS characters (cut
 * between characters, not inside one). Null when nothing is left.
 */
export function uploadedFileName(raw: string | undefined | null): string | null {
  if (!raw) return null;
  const base = (raw.split(/[\\/]/).pop() ?? "").normalize("NFC");
  // White space first, so that a line break becomes a space rather than nothing.
  const clean = base.replace(/\s+/g, " ").replace(UNSAFE, "").replace(/ {2,}/g, " ").trim();
  const cut = Array.from(clean).slice(0, MAX_FILE_NAME_CHARS).join("").trim();
  return cut === "" ? null : cut;
}
