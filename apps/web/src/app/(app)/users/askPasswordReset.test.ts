import { describe, expect, it, vi } from "vitest";
import type { AnswerOutcome, AskOptions } from "@/components/AskDialog";
import { createAskSession, type OpenQuestion } from "@/components/askSession";
import { askPasswordReset } from "./askPasswordReset";

function dialog() {
  let questions: OpenQuestion<AskOptions>[] = [];
  const session = createAskSession<AskOptions>((q) => {
    questions = q;
  });
  return { ...session, shown: () => questions.at(-1)!, titles: () => questions.map((q) => q.options.title) };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const POLICY = "This password is on the list of common passwords: choose another";

describe("a password reset", () => {
  it("asks the reason over the password and resets with both", async () => {
    const d = dialog();
    const reset = vi.fn(async (): Promise<AnswerOutcome> => ({ ok: true }));
    const done = askPasswordReset(d.ask, "erin", reset);
    // Not awaited: the password's answer runs until the reason's is done.
    void d.answer(d.shown().id, "replaced-pass-456");
    await tick();
    expect(d.titles()).toEqual(["New password for erin", "Reset the password of erin?"]);
    await d.answer(d.shown().id, "Forgot the initial password");
    expect(await done).toBe("Forgot the initial password");
    expect(reset).toHaveBeenCalledWith("replaced-pass-456", "Forgot the initial password");
    expect(d.titles()).toEqual([]);
  });

  it("refused by the policy, goes back to the password with the refusal, and keeps the reason for the next try", async () => {
    const d = dialog();
    const reset = vi.fn(async (password: string): Promise<AnswerOutcome> => (password === "password1234" ? { ok: false, refusal: POLICY } : { ok: true }));
    const done = askPasswordReset(d.ask, "erin", reset);
    const password = d.shown().id;
    void d.answer(password, "password1234");
    await tick();
    await d.answer(d.shown().id, "Locked out before the night shift");
    // Refused: the reason question stays, with the refusal in it.
    expect(d.shown()).toMatchObject({ options: { dismiss: "Back" }, refusal: POLICY, running: false });
    d.cancel(d.shown().id);
    await tick();
    expect(d.shown()).toMatchObject({ id: password, refusal: POLICY, running: false });
    void d.answer(password, "a-better-pass-789");
    await tick();
    expect(d.shown().options.initial).toBe("Locked out before the night shift");
    await d.answer(d.shown().id, "Locked out before the night shift");
    expect(await done).toBe("Locked out before the night shift");
    expect(reset.mock.calls).toEqual([
      ["password1234", "Locked out before the night shift"],
      ["a-better-pass-789", "Locked out before the night shift"],
    ]);
  });

  it("sends nothing when given up at the password", async () => {
    const d = dialog();
    const reset = vi.fn(async (): Promise<AnswerOutcome> => ({ ok: true }));
    const done = askPasswordReset(d.ask, "erin", reset);
    void d.answer(d.shown().id, "replaced-pass-456");
    await tick();
    d.cancel(d.shown().id); // Back
    await tick();
    d.cancel(d.shown().id);
    expect(await done).toBeNull();
    expect(reset).not.toHaveBeenCalled();
  });
});
