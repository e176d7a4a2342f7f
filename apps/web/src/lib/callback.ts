/** Only same-site paths are accepted as a post-login destination (no open redirect). */
export function safeCallback(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value[0] : value;
  // Control characters are refused outright: browsers drop tabs and newlines from URLs, so
  // "/<TAB>/evil.example" would become "//evil.example". The parse check is the backstop.
  if (!v || !v.startsWith("/") || v.startsWith("//") || v.startsWith("/\\") || hasControlChar(v)) return "/worklist";
  const base = "http://same-site.invalid";
  try {
    if (new URL(v, base).origin !== base) return "/worklist";
  } catch {
    return "/worklist";
  }
  return v;
}

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
