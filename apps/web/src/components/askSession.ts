// The questions an in-page dialog (useAsk) holds, and what happens to an answer, without React:
// the rules a clinician relies on (what they typed survives a refusal, one submit at a time) are
// tested here, in node, rather than through a browser.
import { describeError } from "@/lib/errors";

/**
 * How long a question's form is held while its answer is acted on. A request that never answers (a
 * connection dropped without a reset) must not hold the form, and what was typed, for good: after
 * this the form is released with NO_ANSWER, while the request may still be carried out.
 */
export const ASK_TIMEOUT_MS = 60_000;

/** Said in the form once ASK_TIMEOUT_MS have passed without an answer. */
export const NO_ANSWER = `No answer from the server after ${ASK_TIMEOUT_MS / 1000} s. The request may still be carried out: this closes by itself when it is, and nothing is sent again until it answers. You may Cancel meanwhile.`;

/**
 * What acting on an answer came to. ok: done, the question closes. Not ok: it stays open, fields
 * as typed, with `refusal` shown in it (null: nothing to say, e.g. the user came back to it from a
 * follow-up question).
 */
export interface AnswerOutcome {
  ok: boolean;
  refusal?: string | null;
}

/** Acts on the answer while the question stays open: a refusal is shown there, not after it closed. */
export type AnswerRun = (answer: string) => Promise<AnswerOutcome>;

/** What the typist has entered so far: kept while a follow-up question covers the form. */
export interface Draft {
  value: string;
  again: string;
}

/** An open question as the dialog shows it. */
export interface OpenQuestion<Options> {
  id: number;
  options: Options;
  /** Its answer is being acted on: the form is held (submit busy, no cancel) until the outcome. */
  running: boolean;
  /** Why its last answer was refused (null: none yet). */
  refusal: string | null;
  /** What was typed before a follow-up covered it (null: start empty). */
  draft: Draft | null;
}

interface Entry<Options> extends OpenQuestion<Options> {
  run: AnswerRun | undefined;
  /** Its answer's run has not settled, released or not. */
  inFlight: boolean;
  resolve: (answer: string | null) => void;
}

export interface AskSession<Options> {
  /**
   * Opens a question; resolves to the answer, or null when cancelled. With `run`, the answer is acted
   * on while the question stays open, and the promise resolves once the run succeeds (null if the
   * user cancels, after a refusal or before answering).
   */
  ask: (options: Options, run?: AnswerRun) => Promise<string | null>;
  /** The user submitted `answer` to question `id`. Ignored unless that question is on top and idle. */
  answer: (id: number, answer: string) => Promise<void>;
  /** The user dismissed question `id` (Cancel, Escape, backdrop). Ignored while its answer runs. */
  cancel: (id: number) => void;
  /** What is typed in question `id`, to show again if a follow-up covers it and goes. */
  keepDraft: (id: number, draft: Draft) => void;
}

/** `show`: called with the open questions, bottom first, after each change (the dialog shows the last). */
export function createAskSession<Options>(
  show: (questions: OpenQuestion<Options>[]) => void,
  /** ASK_TIMEOUT_MS unless given (tests). */
  { timeoutMs = ASK_TIMEOUT_MS }: { timeoutMs?: number } = {},
): AskSession<Options> {
  let stack: Entry<Options>[] = [];
  let ids = 0;

  // Fresh objects each time: React re-renders on a new reference, not on a mutated one.
  const publish = () => show(stack.map(({ id, options, running, refusal, draft }) => ({ id, options, running, refusal, draft })));
  const top = () => stack.at(-1);
  const update = (entry: Entry<Options>, change: Partial<Pick<Entry<Options>, "running" | "refusal">>) => {
    Object.assign(entry, change);
    publish();
  };
  const close = (entry: Entry<Options>, answer: string | null) => {
    stack = stack.filter((e) => e !== entry);
    entry.resolve(answer);
    publish();
  };
  /**
   * The run's outcome, or "no answer" once timeoutMs have passed without one. Not while a
   * follow-up question covers this one (the run is waiting for the user, not the server): the
   * clock starts again.
   */
  const answeredWithin = (settled: Promise<AnswerOutcome>, entry: Entry<Options>) =>
    new Promise<AnswerOutcome | "no answer">((resolve) => {
      let timer: ReturnType<typeof setTimeout>;
      const arm = () => {
        timer = setTimeout(() => (top() !== entry && stack.includes(entry) ? arm() : resolve("no answer")), timeoutMs);
      };
      arm();
      void settled.then((outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });

  return {
    ask: (options, run) =>
      new Promise((resolve) => {
        const open = top();
        // Asked while the open question's answer runs, the new one is a follow-up of it (the run
        // asks again, e.g. to accept a regression): shown over it, which comes back with what was
        // typed once the follow-up is answered. Otherwise the open question is answered
        // "cancelled" rather than left hanging.
        // (Released after ASK_TIMEOUT_MS, its request is still in flight: a follow-up all the same.)
        if (open && !open.running && !open.inFlight) close(open, null);
        ids += 1;
        stack = [...stack, { id: ids, options, run, resolve, running: false, inFlight: false, refusal: null, draft: null }];
        publish();
      }),

    answer: async (id, answer) => {
      const entry = top();
      // Only the question shown, once: a second Enter or click while the first runs sends nothing.
      if (!entry || entry.id !== id || entry.running) return;
      if (!entry.run) {
        close(entry, answer);
        return;
      }
      update(entry, { running: true, refusal: null });
      const run = entry.run;
      entry.inFlight = true;
      const settled = (async (): Promise<AnswerOutcome> => {
        try {
          return await run(answer);
        } catch (e) {
          // A run is expected to report its refusal, not throw it; one that throws must still leave
          // the form usable, with a reason, rather than held busy for ever.
          return { ok: false, refusal: describeError(e) };
        } finally {
          entry.inFlight = false;
        }
      })();
      const outcome = await answeredWithin(settled, entry);
      if (outcome === "no answer") {
        // Released, as typed; the page's action still runs and refuses any other until it answers.
        if (stack.includes(entry)) update(entry, { running: false, refusal: NO_ANSWER });
        const late = await settled;
        // Carried out after all: closed as answered, unless the user has since sent it again or left.
        if (!stack.includes(entry) || entry.running) return;
        if (late.ok) close(entry, answer);
        else update(entry, { refusal: late.refusal ?? null });
        return;
      }
      if (!stack.includes(entry)) return;
      if (outcome.ok) close(entry, answer);
      else update(entry, { running: false, refusal: outcome.refusal ?? null });
    },

    cancel: (id) => {
      const entry = top();
      // The request is already sent and cannot be taken back: "Cancel" would promise what it cannot do.
      if (!entry || entry.id !== id || entry.running) return;
      close(entry, null);
    },

    keepDraft: (id, draft) => {
      const entry = stack.find((e) => e.id === id);
      // Not published: the form already shows it; it only matters when the form is mounted again.
      if (entry) entry.draft = draft;
    },
  };
}
