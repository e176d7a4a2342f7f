import { describe, expect, it, vi } from "vitest";
import { ANOTHER_ACTION_RUNNING, createActionRunner, PAGE_NO_ANSWER, RELOAD_NO_ANSWER } from "./actionRunner";
import { ApiError } from "./errors";

/** A runner whose page is a record of what it was told, and a reload that can be watched. */
function page({ reload = async () => undefined, reloadTimeoutMs, actionTimeoutMs }: { reload?: () => Promise<unknown>; reloadTimeoutMs?: number; actionTimeoutMs?: number } = {}) {
  const shown = { busy: false, actionError: null as string | null, notice: null as string | null };
  const reloads = vi.fn(reload);
  const { act } = createActionRunner({
    reload: reloads,
    setBusy: (b) => {
      shown.busy = b;
    },
    setActionError: (m) => {
      shown.actionError = m;
    },
    setNotice: (m) => {
      shown.notice = m;
    },
    reloadTimeoutMs,
    actionTimeoutMs,
  });
  return { act, shown, reloads };
}

const refusedWith = (code: ApiError["code"], message: string) => async () => {
  throw new ApiError(code, message);
};

describe("a page's action", () => {
  it("reloads the page's data after a CONFLICT refusal, and keeps the refusal shown", async () => {
    const { act, shown, reloads } = page();
    const outcome = await act(refusedWith("CONFLICT", "This image changed since your page loaded"));
    expect(reloads).toHaveBeenCalledTimes(1);
    expect(outcome).toEqual({ ok: false, refusal: "This image changed since your page loaded" });
    expect(shown).toEqual({ busy: false, actionError: "This image changed since your page loaded", notice: null });
  });

  it("does not reload after a refusal of the input or the role: the page's data is still what it was", async () => {
    for (const code of ["BAD_USER_INPUT", "FORBIDDEN"] as const) {
      const { act, shown, reloads } = page();
      expect(await act(refusedWith(code, `refused: ${code}`))).toEqual({ ok: false, refusal: `refused: ${code}` });
      expect(reloads).not.toHaveBeenCalled();
      expect(shown.actionError).toBe(`refused: ${code}`);
    }
  });

  it("keeps the CONFLICT refusal when the reload after it fails too (it says what became of the action)", async () => {
    const { act, shown } = page({ reload: async () => Promise.reject(new TypeError("offline")) });
    const outcome = await act(refusedWith("CONFLICT", "Someone signed the case meanwhile"));
    expect(outcome).toEqual({ ok: false, refusal: "Someone signed the case meanwhile" });
    expect(shown.actionError).toBe("Someone signed the case meanwhile");
    expect(shown.busy).toBe(false);
  });

  it("says it is done, reloads, and answers ok", async () => {
    const { act, shown, reloads } = page();
    const outcome = await act(async () => ({ login: "erin" }), (r) => `User ${r.login} created.`);
    expect(outcome).toEqual({ ok: true });
    expect(reloads).toHaveBeenCalledTimes(1);
    expect(shown).toEqual({ busy: false, actionError: null, notice: "User erin created." });
  });

  it("answers ok when only the reload after it failed: the action was done and must not be sent again", async () => {
    const { act, shown } = page({ reload: async () => Promise.reject(new TypeError("offline")) });
    expect(await act(async () => undefined, "Unlocked.")).toEqual({ ok: true });
    expect(shown.actionError).toMatch(/could not be reached/);
  });

  it("runs one action at a time: a second one while the first runs is not started, and says so", async () => {
    const { act, shown } = page();
    let finish!: () => void;
    const first = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    const second = vi.fn(async () => undefined);
    const running = act(first);
    expect(shown.busy).toBe(true);
    expect(await act(second)).toEqual({ ok: false, refusal: ANOTHER_ACTION_RUNNING });
    expect(second).not.toHaveBeenCalled();
    // Not the page's error: the page's buttons were held, only a dialog can ask this.
    expect(shown.actionError).toBeNull();
    finish();
    expect(await running).toEqual({ ok: true });
    expect(first).toHaveBeenCalledTimes(1);
    expect(shown.busy).toBe(false);
  });

  it("releases the page from an action that never answers, saying it may still be carried out and to reload before doing it again", async () => {
    const { act, shown } = page({ actionTimeoutMs: 20 });
    expect(await act(() => new Promise(() => undefined))).toEqual({ ok: false, refusal: PAGE_NO_ANSWER });
    expect(PAGE_NO_ANSWER).toMatch(/may still be carried out: reload the page to see whether it was/);
    expect(shown).toEqual({ busy: false, actionError: PAGE_NO_ANSWER, notice: null });
    expect(await act(async () => "next")).toEqual({ ok: true });
  });

  it("waits as long as it takes for an action without a limit (an audit export verifies the chain first), holding any other back meanwhile", async () => {
    const { act, shown } = page({ reloadTimeoutMs: 20, actionTimeoutMs: 20 });
    let finish!: () => void;
    const slow = act(() => new Promise<void>((resolve) => (finish = resolve)), undefined, { timeoutMs: null });
    await new Promise((r) => setTimeout(r, 60));
    expect(shown.busy).toBe(true);
    expect(await act(async () => "another")).toEqual({ ok: false, refusal: ANOTHER_ACTION_RUNNING });
    finish();
    expect(await slow).toEqual({ ok: true });
    expect(shown).toEqual({ busy: false, actionError: null, notice: null });
  });

  it("counts an action done when only the reload after it never answers, and says to reload", async () => {
    const { act, shown } = page({ reloadTimeoutMs: 20, reload: () => new Promise(() => undefined) });
    expect(await act(async () => "saved", "Saved.")).toEqual({ ok: true });
    expect(shown).toEqual({ busy: false, actionError: RELOAD_NO_ANSWER, notice: "Saved." });
  });
});
