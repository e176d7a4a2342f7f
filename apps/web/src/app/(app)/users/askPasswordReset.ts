// A password reset asks two things, the new password and then the reason, and acts on both. The
// reason is asked over the password, which stays open under it: a password the API's policy refuses
// is corrected there ("Back", the refusal shown with it) without typing it all again, and the
// reason comes back as it was typed.
import type { AnswerOutcome, AnswerRun, AskOptions } from "@/components/AskDialog";
import { NEW_PASSWORD_MIN_LENGTH } from "@/lib/newPassword";

type Ask = (options: AskOptions, run?: AnswerRun) => Promise<string | null>;

/** Resolves to the reason once reset, or null when given up. `reset`: usually `act(...)` of useAction. */
export function askPasswordReset(ask: Ask, login: string, reset: (password: string, reason: string) => Promise<AnswerOutcome>): Promise<string | null> {
  let reason = "";
  let refusal: string | null = null;
  let done: string | null = null;
  return ask(
    {
      title: `New password for ${login}`,
      label: `New password (≥ ${NEW_PASSWORD_MIN_LENGTH} characters)`,
      password: true,
      minLength: NEW_PASSWORD_MIN_LENGTH,
      confirm: "Next",
    },
    async (password) => {
      // A refusal of an earlier password is not this one's.
      refusal = null;
      done = await ask({ title: `Reset the password of ${login}?`, confirm: "Reset password", dismiss: "Back", initial: reason }, async (why) => {
        reason = why;
        const outcome = await reset(password, why);
        refusal = outcome.ok ? null : (outcome.refusal ?? null);
        return outcome;
      });
      return done === null ? { ok: false, refusal } : { ok: true };
    },
  ).then((password) => (password === null ? null : done));
}
