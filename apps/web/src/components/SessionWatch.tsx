"use client";
// Automatic logoff on every page, whether it polls or not. Every SESSION_CHECK_MS it tells the API
// about key or pointer input since the last check (use), or else only asks whether the session
// still lives (a background request, not use); a refusal signs out through gql. Two minutes before
// the timeout it warns, so that a long amendment being typed is not lost to it.
import { useEffect, useRef, useState } from "react";
import { gql } from "@/lib/gql";
import { clock, idleSecondsLeft, SESSION_CHECK_MS } from "@/lib/idle";
import { ME } from "@/lib/operations";

const INPUT_EVENTS = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"] as const;

export function SessionWatch({ idleTimeoutSeconds }: { idleTimeoutSeconds: number }) {
  const lastInput = useRef(Date.now());
  const reported = useRef(Date.now());
  const [left, setLeft] = useState<number | null>(null);

  useEffect(() => {
    const onInput = () => {
      lastInput.current = Date.now();
    };
    for (const e of INPUT_EVENTS) window.addEventListener(e, onInput, { passive: true });
    const check = setInterval(() => {
      const used = lastInput.current > reported.current;
      if (used) reported.current = lastInput.current;
      gql(ME, {}, { background: !used }).then(
        () => {
          // Still alive well past this page's own timeout: another tab of the session is in use.
          // (The API's own deadline falls up to 90 s later: one check interval plus the minute
          // its record of use may lag.)
          if (Date.now() - lastInput.current > (idleTimeoutSeconds + 90) * 1000) lastInput.current = reported.current = Date.now();
        },
        () => {},
      );
    }, SESSION_CHECK_MS);
    const countdown = setInterval(() => setLeft(idleSecondsLeft(lastInput.current, Date.now(), idleTimeoutSeconds)), 1000);
    return () => {
      for (const e of INPUT_EVENTS) window.removeEventListener(e, onInput);
      clearInterval(check);
      clearInterval(countdown);
    };
  }, [idleTimeoutSeconds]);

  if (left === null) return null;
  return <IdleWarning left={left} onStay={() => setLeft(null)} />;
}

/**
 * The warning answers to the keyboard too: its button takes focus when it appears (unless the
 * user is typing, which is activity anyway), so Enter or Space keeps the session without the
 * mouse, and never reaches the review page, where Enter confirms a cell.
 */
function IdleWarning({ left, onStay }: { left: number; onStay: () => void }) {
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!document.activeElement?.closest("input, textarea, select, [contenteditable]")) button.current?.focus();
  }, []);
  return (
    <div className="notice idle-warning" role="alert" data-testid="idle-warning">
      {/* Announced once: the countdown that changes every second is for the eye only. */}
      {left > 0 ? (
        <>
          Without activity, you will soon be signed out<span aria-hidden="true"> (in {clock(left)})</span>.
        </>
      ) : (
        "Signing out for inactivity…"
      )}{" "}
      {/* The key or click that presses it is input: the session's next check reports it as use. */}
      <button type="button" ref={button} onClick={onStay} data-testid="idle-stay">
        Stay signed in
      </button>
    </div>
  );
}
