import { describe, expect, it } from "vitest";
import { containersOf, focusReturnTarget } from "./focusReturn";

interface Node {
  tagName: string;
  isConnected: boolean;
  parentElement: Node | null;
}
const node = (tagName: string, parentElement: Node | null): Node => ({
  tagName,
  isConnected: true,
  parentElement,
});

// body > section > table > tbody > tr > td > button: an Approve button on a pending promotion's row.
function page() {
  const body = node("BODY", node("HTML", null));
  const section = node("SECTION", body);
  const table = node("TABLE", section);
  const tbody = node("TBODY", table);
  const tr = node("TR", tbody);
  const td = node("TD", tr);
  const button = node("BUTTON", td);
  return { section, table, tbody, tr, td, button };
}

describe("focusReturnTarget", () => {
  it("goes back to the button while it is in the page", () => {
    const p = page();
    expect(focusReturnTarget(p.button, containersOf(p.button))).toBe(p.button);
  });

  it("lists the containers, nearest first, without the body", () => {
    const p = page();
    expect(containersOf(p.button).map((n) => n.tagName)).toEqual(["TD", "TR", "TBODY", "TABLE", "SECTION"]);
  });

  it("goes to the row when only its button went (Run again once it has run)", () => {
    const p = page();
    const containers = containersOf(p.button);
    p.button.isConnected = false;
    expect(focusReturnTarget(p.button, containers)).toBe(p.tr);
  });

  it("goes to the table whose row the action removed, not to the top of the page", () => {
    const p = page();
    const containers = containersOf(p.button);
    // The row left the list; the table (other rows) stayed.
    for (const n of [p.button, p.td, p.tr]) n.isConnected = false;
    expect(focusReturnTarget(p.button, containers)).toBe(p.table);
  });

  it("goes to the section when the table went too, and nowhere when nothing is left", () => {
    const p = page();
    const containers = containersOf(p.button);
    for (const n of [p.button, p.td, p.tr, p.tbody, p.table]) n.isConnected = false;
    expect(focusReturnTarget(p.button, containers)).toBe(p.section);
    p.section.isConnected = false;
    expect(focusReturnTarget(p.button, containers)).toBeNull();
  });
});
