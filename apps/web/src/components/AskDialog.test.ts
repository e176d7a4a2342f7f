// The form as it renders in each state (node has no DOM here: static markup, no clicks; what the
// clicks do is askSession.test.ts).
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { AskForm, type AskOptions } from "./AskDialog";
import type { OpenQuestion } from "./askSession";

function render(question: Partial<OpenQuestion<AskOptions>> & { options: AskOptions }): string {
  const full: OpenQuestion<AskOptions> = { id: 1, running: false, refusal: null, draft: null, ...question };
  return renderToStaticMarkup(createElement(AskForm, { question: full, onCancel: () => {}, onAnswer: () => {}, onDraft: () => {} }));
}

/** The element with `testId`'s opening tag. */
function tag(html: string, testId: string): string {
  return html.match(new RegExp(`<[a-z]+[^>]*data-testid="${testId}"[^>]*>`))?.[0] ?? "";
}

const reason: AskOptions = { title: "Void image 2?", confirm: "Void image" };
const typed = { value: "Smear of another patient, labelled with the wrong accession", again: "" };

describe("the ask dialog's form", () => {
  it("is held while its answer runs: submit busy and disabled, no cancel, the answer kept and not editable", () => {
    const html = render({ options: reason, running: true, draft: typed });
    expect(tag(html, "ask-submit")).toMatch(/disabled=""/);
    expect(tag(html, "ask-submit")).toMatch(/aria-busy="true"/);
    expect(tag(html, "ask-cancel")).toMatch(/disabled=""/);
    expect(tag(html, "ask-input")).toMatch(/readOnly=""/);
    expect(html).toContain(`>${typed.value}</textarea>`);
  });

  it("shows a refusal inside itself as an alert, with what was typed, ready to send again or cancel", () => {
    const html = render({ options: reason, refusal: "This case was signed meanwhile: it cannot be changed", draft: typed });
    expect(tag(html, "ask-error")).toMatch(/role="alert"/);
    expect(html).toContain("This case was signed meanwhile: it cannot be changed</p>");
    expect(html).toContain(`>${typed.value}</textarea>`);
    expect(tag(html, "ask-submit")).not.toMatch(/disabled|aria-busy/);
    expect(tag(html, "ask-cancel")).not.toMatch(/disabled/);
    expect(tag(html, "ask-input")).not.toMatch(/readOnly/);
  });

  it("has no alert before a refusal, and starts from the text it is given", () => {
    const html = render({ options: { ...reason, initial: "Forgot the initial password" } });
    expect(html).not.toContain('data-testid="ask-error"');
    expect(html).toContain(">Forgot the initial password</textarea>");
  });

  it("keeps both typings of a password under a follow-up question", () => {
    const html = render({ options: { title: "New password", password: true, minLength: 10 }, draft: { value: "replaced-pass-456", again: "replaced-pass-456" } });
    expect(tag(html, "ask-input")).toMatch(/value="replaced-pass-456"/);
    expect(tag(html, "ask-input-again")).toMatch(/value="replaced-pass-456"/);
  });
});
