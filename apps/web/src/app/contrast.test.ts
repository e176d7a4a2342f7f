// The dashboard's colours against the WCAG 2.2 AA minimums, read from the stylesheet itself, so a
// colour changed later is checked too: text 4.5:1 (1.4.3), focus ring and current-cell border 3:1
// (1.4.11).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const css = readFileSync(new URL("./globals.css", import.meta.url), "utf8");
const variable = (name: string) => {
  const m = new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`).exec(css);
  if (!m) throw new Error(`--${name} is not a #rrggbb colour in globals.css`);
  return m[1]!;
};

/** WCAG relative luminance of #rrggbb. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe("colour contrast", () => {
  it("body, muted, danger and ok text on the page and on panels is at least 4.5:1", () => {
    for (const fg of ["fg", "muted", "danger", "ok", "accent"])
      for (const bg of ["bg", "panel"]) expect(contrast(variable(fg), variable(bg)), `--${fg} on --${bg}`).toBeGreaterThanOrEqual(4.5);
  });
  it("every badge's text on its own background is at least 4.5:1 (STAT, URGENT and low confidence, ok, bad, AI, human, plain)", () => {
    const badges = [...css.matchAll(/\.badge\.(\w+) \{ background: (#[0-9a-fA-F]{6}); color: var\(--(\w+)\); \}/g)];
    expect(badges.map((b) => b[1])).toEqual(expect.arrayContaining(["STAT", "URGENT", "ok", "bad", "ai", "human"]));
    for (const [, name, background, fg] of badges) expect(contrast(variable(fg!), background!), `.badge.${name}`).toBeGreaterThanOrEqual(4.5);
    const plain = /\.badge \{[^}]*background: (#[0-9a-fA-F]{6});/.exec(css);
    expect(contrast(variable("fg"), plain![1]!)).toBeGreaterThanOrEqual(4.5);
  });
  it("the focus ring and the current cell's border stand out 3:1 from the page and panels", () => {
    expect(css).toMatch(/outline: 3px solid var\(--focus\)/);
    expect(css).toMatch(/\.tile\[aria-current="true"\] \{ border-color: var\(--focus\)/);
    for (const bg of ["bg", "panel"]) expect(contrast(variable("focus"), variable(bg))).toBeGreaterThanOrEqual(3);
  });
});
