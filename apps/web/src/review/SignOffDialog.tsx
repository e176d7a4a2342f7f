"use client";
// Electronic signature (21 CFR 11.50, 11.200): the signer states the meaning and re-enters the
// password; the API re-verifies both signature components before recording it.
import { useState } from "react";
import { Modal } from "@/components/Modal";
import { ErrorBox } from "@/components/ui";
import { describeError } from "@/lib/errors";

export function SignOffDialog({
  open,
  onClose,
  unreviewed,
  total,
  saving,
  meanings,
  onSign,
}: {
  open: boolean;
  onClose: () => void;
  unreviewed: number;
  total: number;
  saving: boolean;
  meanings: string[];
  onSign: (meaning: string, password: string) => Promise<void>;
}) {
  const [meaning, setMeaning] = useState(meanings[0] ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const blocked =
    total === 0
      ? "There are no cells to sign off."
      : unreviewed > 0
        ? `${unreviewed} of ${total} cells are not reviewed yet. Every cell needs a human decision before sign-off.`
        : saving
          ? "Decisions are still being saved."
          : null;

  return (
    <Modal open={open} onClose={onClose} label="Sign off case" testId="signoff-dialog">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (blocked || !password || !meaning) return;
          setBusy(true);
          setError(null);
          try {
            await onSign(meaning, password);
            setPassword("");
          } catch (err) {
            setError(describeError(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <h2 style={{ marginTop: 0 }}>Sign off</h2>
        {blocked && (
          <p className="notice" data-testid="signoff-blocked" role="status">
            {blocked}
          </p>
        )}
        <div style={{ display: "grid", gap: "0.6rem" }}>
          <label>
            Meaning of this signature
            <select value={meaning} onChange={(e) => setMeaning(e.target.value)} data-testid="signoff-meaning">
              {meanings.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </label>
          <label>
            Re-enter your password to sign
            <input
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              data-testid="signoff-password"
              disabled={Boolean(blocked)}
            />
          </label>
          <p className="muted" style={{ margin: 0, fontSize: "0.85rem" }}>
            Signing records your printed name, the date and time, this meaning and a hash of the counts you signed.
          </p>
        </div>
        <ErrorBox error={error} testId="signoff-error" />
        <div className="row" style={{ marginTop: "0.75rem", justifyContent: "flex-end" }}>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" type="submit" disabled={Boolean(blocked) || !password || busy} data-testid="signoff-submit" title={blocked ?? undefined}>
            {busy ? "Signing…" : "Sign"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
