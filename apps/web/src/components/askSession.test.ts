import { describe, expect, it, vi } from "vitest";
import { type AnswerOutcome, createAskSession, NO_ANSWER, type OpenQuestion } from "./askSession";
import { ApiError } from "@/lib/errors";

interface Q {
  title: string;
}

/** A session and what its dialog would show now (the last question is the one on screen). */
function dialog(options?: { timeoutMs?: number }) {
  let questions: OpenQuestion<Q>[] = [];
  const session = createAskSession<Q>((q) => {
    questions = q;
  }, options);
  return { ...session, shown: () => questions.at(-1), open: () => questions };
}

/** A run whose outcome the test decides, after looking at the dialog while it runs. */
function heldRun() {
  const answers: string[] = [];
  let settle!: (outcome: AnswerOutcome) => void;
  const run = vi.fn((answer: string) => {
    answers.push(answer);
    return new Promise<AnswerOutcome>((resolve) => (settle = resolve));
  });
  return { run, answers, settle: (outcome: AnswerOutcome) => settle(outcome) };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("a question with no action", () => {
  it("closes with the answer, or null when cancelled", async () => {
    const d = dialog();
    const yes = d.ask({ title: "Create?" });
    await d.answer(d.shown()!.id, "Joins the night shift");
    expect(await yes).toBe("Joins the night shift");
    expect(d.shown()).toBeUndefined();
    const no = d.ask({ title: "Unlock?" });
    d.cancel(d.shown()!.id);
    expect(await no).toBeNull();
  });

  it("answers an open question 'cancelled' when another is asked, rather than leaving it hanging", async () => {
    const d = dialog();
    const first = d.ask({ title: "first" });
    const second = d.ask({ title: "second" });
    expect(await first).toBeNull();
    expect(d.open().map((q) => q.options.title)).toEqual(["second"]);
    await d.answer(d.shown()!.id, "x");
    expect(await second).toBe("x");
  });
});

describe("a question that acts on its answer", () => {
  it("stays open while the action runs, held, and closes once it is done", async () => {
    const d = dialog();
    const { run, settle } = heldRun();
    const asked = d.ask({ title: "Void image 2?" }, run);
    const id = d.shown()!.id;
    const sent = d.answer(id, "Smear of another patient");
    expect(d.shown()).toMatchObject({ id, running: true, refusal: null });
    settle({ ok: true });
    await sent;
    expect(await asked).toBe("Smear of another patient");
    expect(d.shown()).toBeUndefined();
  });

  it("sends one answer while it runs: a second submit and a cancel are ignored", async () => {
    const d = dialog();
    const { run, settle } = heldRun();
    const asked = d.ask({ title: "Create the account?" }, run);
    const id = d.shown()!.id;
    const sent = d.answer(id, "Joins the night shift");
    void d.answer(id, "Joins the night shift");
    d.cancel(id);
    expect(run).toHaveBeenCalledTimes(1);
    expect(d.shown()?.running).toBe(true);
    settle({ ok: true });
    await sent;
    expect(await asked).toBe("Joins the night shift");
  });

  it("stays open after a refusal, showing it with what was typed, and takes a corrected answer", async () => {
    const d = dialog();
    const { run, answers, settle } = heldRun();
    let closed: string | null | undefined;
    void d.ask({ title: "Cancel training run?" }, run).then((a) => (closed = a));
    const id = d.shown()!.id;
    d.keepDraft(id, { value: "Queued on the wrong snapshot, as discussed with the data team", again: "" });
    const first = d.answer(id, "Queued on the wrong snapshot, as discussed with the data team");
    settle({ ok: false, refusal: "The run already finished" });
    await first;
    await tick();
    expect(closed).toBeUndefined();
    expect(d.shown()).toMatchObject({
      id,
      running: false,
      refusal: "The run already finished",
      draft: { value: "Queued on the wrong snapshot, as discussed with the data team" },
    });
    // Sent again, the old refusal goes while it runs.
    const second = d.answer(id, "Queued on the wrong snapshot");
    expect(d.shown()).toMatchObject({ running: true, refusal: null });
    settle({ ok: true });
    await second;
    await tick();
    expect(answers).toEqual(["Queued on the wrong snapshot, as discussed with the data team", "Queued on the wrong snapshot"]);
    expect(closed).toBe("Queued on the wrong snapshot");
  });

  it("is cancelled after a refusal with nothing more sent", async () => {
    const d = dialog();
    const { run, settle } = heldRun();
    const asked = d.ask({ title: "Reset the password?" }, run);
    const id = d.shown()!.id;
    const sent = d.answer(id, "Forgot it");
    settle({ ok: false, refusal: "This password is too common" });
    await sent;
    d.cancel(id);
    expect(await asked).toBeNull();
    expect(run).toHaveBeenCalledTimes(1);
    expect(d.shown()).toBeUndefined();
  });

  it("is not left held by an action that throws: the error is shown in it", async () => {
    const d = dialog();
    void d.ask({ title: "Approve?" }, async () => {
      throw new ApiError("FORBIDDEN", "Your role does not allow this action.");
    });
    await d.answer(d.shown()!.id, "Reviewed");
    expect(d.shown()).toMatchObject({ running: false, refusal: "Your role does not allow this action." });
  });

  it("shows a follow-up asked by its action over it, and comes back to it, as typed, with the action's outcome", async () => {
    const d = dialog();
    let secondTry!: (outcome: AnswerOutcome) => void;
    const asked = d.ask({ title: "Why promote?" }, async () => {
      const accepted = await d.ask({ title: "Although it is below the champion?" });
      if (accepted === null) return { ok: true };
      return new Promise<AnswerOutcome>((resolve) => (secondTry = resolve));
    });
    const reason = d.shown()!;
    d.keepDraft(reason.id, { value: "Better on the locked test set", again: "" });
    const sent = d.answer(reason.id, "Better on the locked test set");
    await tick();
    expect(d.open().map((q) => [q.options.title, q.running])).toEqual([
      ["Why promote?", true],
      ["Although it is below the champion?", false],
    ]);
    await d.answer(d.shown()!.id, "");
    await tick();
    // The follow-up answered, the reason is shown again (still held: its action goes on).
    expect(d.shown()).toMatchObject({ id: reason.id, running: true, draft: { value: "Better on the locked test set" } });
    secondTry({ ok: false, refusal: "A proposal for this version is already open" });
    await sent;
    expect(d.shown()).toMatchObject({ id: reason.id, running: false, refusal: "A proposal for this version is already open" });
    d.cancel(reason.id);
    expect(await asked).toBeNull();
  });

  it("lets a follow-up be cancelled while the question under it is held", async () => {
    const d = dialog();
    let followUp: Promise<string | null> | undefined;
    const { run, settle } = heldRun();
    void d.ask({ title: "Why?" }, (answer) => {
      followUp = d.ask({ title: "Sure?" });
      return run(answer);
    });
    void d.answer(d.shown()!.id, "because");
    d.cancel(d.shown()!.id);
    expect(await followUp).toBeNull();
    expect(d.shown()).toMatchObject({ options: { title: "Why?" }, running: true });
    settle({ ok: true });
  });
});

describe("a question whose action gets no answer", () => {
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("is released after the timeout with what was typed and why, and closes by itself when the action is carried out after all", async () => {
    const d = dialog({ timeoutMs: 30 });
    const { run, settle } = heldRun();
    const asked = d.ask({ title: "Void image 2?" }, run);
    const id = d.shown()!.id;
    void d.answer(id, "Smear of another patient");
    expect(d.shown()).toMatchObject({ running: true });
    await wait(60);
    expect(d.shown()).toMatchObject({ id, running: false, refusal: NO_ANSWER });
    expect(NO_ANSWER).toMatch(/may still be carried out: this closes by itself when it is, and nothing is sent again until it answers/);
    settle({ ok: true });
    expect(await asked).toBe("Smear of another patient");
    expect(d.shown()).toBeUndefined();
  });

  it("shows the late refusal in place of the timeout's message, and can be cancelled meanwhile", async () => {
    const d = dialog({ timeoutMs: 30 });
    const first = heldRun();
    void d.ask({ title: "Reset?" }, first.run);
    void d.answer(d.shown()!.id, "Forgot it");
    await wait(60);
    first.settle({ ok: false, refusal: "The account is disabled" });
    await tick();
    expect(d.shown()).toMatchObject({ running: false, refusal: "The account is disabled" });
    const second = heldRun();
    const asked = d.ask({ title: "Unlock?" }, second.run);
    void d.answer(d.shown()!.id, "Locked out by mistake");
    await wait(60);
    d.cancel(d.shown()!.id);
    expect(await asked).toBeNull();
    second.settle({ ok: true });
    await tick();
    expect(d.shown()).toBeUndefined();
  });

  it("does not count the time a follow-up question waits for the user", async () => {
    const d = dialog({ timeoutMs: 30 });
    let followUp!: Promise<string | null>;
    let finish!: (o: AnswerOutcome) => void;
    const asked = d.ask({ title: "Propose?" }, async () => {
      followUp = d.ask({ title: "Below the champion: propose anyway?" });
      await followUp;
      return new Promise<AnswerOutcome>((resolve) => (finish = resolve));
    });
    void d.answer(d.shown()!.id, "Better on the locked test set");
    await wait(100);
    // Read for longer than the timeout: the question under it is still held, with no message.
    expect(d.open().map((q) => [q.options.title, q.running, q.refusal])).toEqual([
      ["Propose?", true, null],
      ["Below the champion: propose anyway?", false, null],
    ]);
    await d.answer(d.shown()!.id, "");
    await tick();
    finish({ ok: true });
    expect(await asked).toBe("Better on the locked test set");
  });

  it("keeps a released question whose request is still in flight under a follow-up its action asks later, as typed", async () => {
    const d = dialog({ timeoutMs: 30 });
    let conflictArrives!: () => void;
    const asked = d.ask({ title: "Propose?" }, async () => {
      // The server answers only after the form was released: below the champion, accept?
      await new Promise<void>((resolve) => (conflictArrives = resolve));
      const accepted = await d.ask({ title: "Below the champion: propose anyway?" });
      return accepted === null ? { ok: false, refusal: "Not proposed" } : { ok: true };
    });
    void d.answer(d.shown()!.id, "Better on the locked test set");
    await wait(60);
    expect(d.shown()).toMatchObject({ options: { title: "Propose?" }, refusal: NO_ANSWER });
    conflictArrives();
    await tick();
    expect(d.open().map((q) => q.options.title)).toEqual(["Propose?", "Below the champion: propose anyway?"]);
    await d.answer(d.shown()!.id, "");
    expect(await asked).toBe("Better on the locked test set");
  });
});

