"use client";
// Electronic signature (21 CFR 11.50, 11.200): the signer sees who signs and what, states the
// meaning and re-enters the password; the API re-verifies both signature components before
// recording it.
import { useEffect, useRef, useState } from "react";
import { Modal } from "@/components/Modal";
import { ErrorBox } from "@/components/ui";
import { SIGNATURE_SERIES } from "@/lib/signOutHere";
import { ApiError, describeError } from "@/lib/errors";
import { labelName } from "@/lib/labels";
import { signOffBlocked, signingMeaning, type DifferentialRow } from "./model";
import { type CountSource, rowPercentText, type WhiteCellDifferential } from "@/lib/differential";
import { CartSummary } from "./Differential";
import { amendmentOpenedText, failedImagesText, meaningKind, retractionConfirmText, startingInputs, switchMeaning, withComment, type OpenAmendment } from "./amendment";
import { commentHeading } from "@/lib/retraction";
import { isRetraction, MAX_SIGNED_COMMENT } from "@rcmnet/api/signOffMeanings";

export interface SignOffSummary {
  /** Printed name of the signed-in user, as the signature will record it. */
  signer: string;
  accession: string;
  /** The patient the report is for, as the page shows it ("not recorded"); null for roles the API withholds it from. */
  patientRef: string | null;
  /**
   * The page's live differential, its rows cut to those the signature records (signedRows): every
   * label with cells, and the zeros the API lists.
   */
  differential: { rows: DifferentialRow[]; counted: number; summary: WhiteCellDifferential };
  /** The specimen line the signature records. */
  specimen: string;
  /** What absolute counts come from: the specimen's name and its white-cell count. */
  blood: CountSource;
  total: number;
  unreviewed: number;
  /** Cells whose human label differs from the AI's. */
  overrides: number;
  /**
   * Decisions this page could not save, until saved or reloaded (dismissing the message does not
   * count): in an amendment every cell is decided already, so a failed correction would otherwise
   * sign the old label.
   */
  unsavedDecisions: number;
  /** Images of the case that could not be analysed: the count signed leaves their cells out. */
  failedSlides: number;
  /**
   * Cells withdrawn by the retraction this amendment follows, still counted and not decided since
   * (withdrawnCells); null for none. A result is not signed while any is left; a retraction may be.
   */
  withdrawn: { cells: number; version: number } | null;
  /** In an amendment: the version it replaces and what this amendment decided (else null). */
  amendment: { of: number; decisions: number; relabelled: number } | null;
  /** In an amendment: who opened it, when and why (the reason this signature certifies); else null. */
  amendmentOpened: OpenAmendment | null;
  /** The morphology comment of the version an amendment replaces (null: none, or that version is a retraction). */
  signedComment: string | null;
}

export function SignOffDialog({
  open,
  onClose,
  summary,
  saving,
  onSign,
  onReload,
}: {
  open: boolean;
  onClose: () => void;
  summary: SignOffSummary;
  saving: boolean;
  onSign: (meaning: string, login: string | null, password: string, comment: string | null) => Promise<void>;
  /** Reloads the case: the way out when the API says it changed since the page loaded. */
  onReload: () => void;
}) {
  // Not closed while a signature is under way (Cancel, Escape): the form would unmount and its
  // outcome (signed, refused, or not known after a lost answer) would be told to nobody, while the
  // request might still land.
  const [signing, setSigning] = useState(false);
  const close = () => {
    if (!signing) onClose();
  };
  const sign: typeof onSign = async (...args) => {
    setSigning(true);
    try {
      await onSign(...args);
    } finally {
      setSigning(false);
    }
  };
  return (
    <Modal open={open} onClose={close} label="Sign off case" testId="signoff-dialog">
      {/* Mounted only while open: a cancelled dialog keeps no typed password for the next
          person at this workstation (21 CFR 11.200: only the owner executes a signature). */}
      <SignOffForm onClose={close} summary={summary} saving={saving} onSign={sign} onReload={onReload} />
    </Modal>
  );
}

function SignOffForm({
  onClose,
  summary,
  saving,
  onSign,
  onReload,
}: {
  onClose: () => void;
  summary: SignOffSummary;
  saving: boolean;
  onSign: (meaning: string, login: string | null, password: string, comment: string | null) => Promise<void>;
  onReload: () => void;
}) {
  const { signer, accession, patientRef, differential, total, unreviewed, overrides, specimen, blood, unsavedDecisions, amendment } = summary;
  // Null until the signer picks one: the offered meaning follows the case (signingMeaning).
  const [chosenMeaning, setMeaning] = useState<string | null>(null);
  const { meaning, fitting: meanings } = signingMeaning(summary, chosenMeaning);
  const retracting = isRetraction(meaning);
  const kind = meaningKind(retracting);
  // What the signer entered for each kind of meaning (MeaningInputs): the comment, signed with the
  // counts and printed under them (blasts, dysplasia, smear quality; free text, trimmed by the API,
  // blank for none), or a note on the retraction, one draft each so that nothing crosses between
  // them; and the retraction's tick: a retraction withdraws the version the amendment replaces and
  // gives no result, so it is signed only once the signer has ticked the sentence that says so (the
  // meaning alone is one <select> away). Switched while rendering, so the switch never shows the
  // other kind's text or a tick given before.
  const [inputs, setInputs] = useState(() => startingInputs({ kind, amending: summary.amendment !== null, signedComment: summary.signedComment }));
  if (inputs.kind !== kind) setInputs(switchMeaning(inputs, kind));
  const comment = inputs.drafts[kind];
  const retractionConfirmed = inputs.kind === kind && inputs.retractionConfirmed;
  // Images that could not be analysed are outside the count: a count is signed only once the
  // signer says so. A retraction signs no count: there is nothing to sign without them.
  const [withoutFailed, setWithoutFailed] = useState(false);
  const failedUnacknowledged = summary.failedSlides > 0 && !retracting && !withoutFailed;
  const [login, setLogin] = useState("");
  // After a first signature in this tab's session, the password alone continues the series (the
  // API decides: a new session asks for the ID again, and the field comes back).
  // Read at mount (the form mounts, in the browser, when the dialog opens): the field to focus first
  // depends on it.
  const [seriesOpen, setSeriesOpen] = useState(() => window.sessionStorage.getItem(SIGNATURE_SERIES) === "1");
  const needsId = !seriesOpen;
  const [password, setPassword] = useState("");
  const loginInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | null>(null);
  // The case changed since the page loaded (CONFLICT): reloading is the way on, not retyping.
  const [changed, setChanged] = useState(false);
  const [busy, setBusy] = useState(false);
  // The page's rule (model.ts): unreviewed, unsaved, and for a result cells a retraction withdrew.
  // The meaning stays choosable while blocked: with withdrawn cells, a retraction still signs.
  const blocked = signOffBlocked({ total, amendment, saving, unreviewed, unsavedDecisions, withdrawn: summary.withdrawn, retracting });

  // One rule for the Sign button and for Enter in the form.
  const cannotSign = Boolean(blocked) || failedUnacknowledged || (retracting && !retractionConfirmed) || (needsId && !login.trim()) || !password || !meaning;

  // Opened while a decision was saving, the dialog was blocked and its fields disabled, so the
  // browser focused the meaning <select>: once it can be signed, focus goes to the user ID, where
  // typing cannot change the meaning.
  const wasBlocked = useRef(Boolean(blocked));
  useEffect(() => {
    if (wasBlocked.current && !blocked) (loginInput.current ?? passwordInput.current)?.focus();
    wasBlocked.current = Boolean(blocked);
  }, [blocked]);

  // The API signs this reason with version N+1 ("Reason: …"), whoever opened the amendment: an
  // approval and a retraction alike.
  const certifiedReason = summary.amendmentOpened && (
    <span data-testid="signoff-amendment-reason">
      {" "}
      {amendmentOpenedText(summary.amendmentOpened)} Your signature certifies this reason.
    </span>
  );

  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        if (cannotSign) return;
        setBusy(true);
        setError(null);
        setChanged(false);
        try {
          await onSign(meaning, needsId ? login.trim() : null, password, comment.trim() || null);
          window.sessionStorage.setItem(SIGNATURE_SERIES, "1");
        } catch (err) {
          setPassword("");
          setError(describeError(err));
          const askedForId = err instanceof ApiError && err.needsUserId;
          if (askedForId) {
            window.sessionStorage.removeItem(SIGNATURE_SERIES);
            setSeriesOpen(false);
          }
          // To the field to fill in next (the user ID the API asks for, else the password, which is
          // retyped), not to the page body the disabled button left.
          requestAnimationFrame(() => (askedForId ? loginInput : passwordInput).current?.focus());
          setChanged(err instanceof ApiError && err.code === "CONFLICT");
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
      <p style={{ marginTop: 0 }} data-testid="signoff-summary">
        Signing case <strong className="mono">{accession}</strong>
        {patientRef !== null && (
          <>
            {" "}
            (patient <strong className="mono" data-testid="signoff-patient">{patientRef}</strong>)
          </>
        )}{" "}
        as <strong data-testid="signoff-signer">{signer}</strong>:{" "}
        {total === 0 ? (
          "no cells to count (every image of the case is voided, failed or gave none)."
        ) : (
          <>
            {total - unreviewed} of {total} cell
            {total === 1 ? "" : "s"} reviewed, <strong data-testid="signoff-overrides">{overrides}</strong> of them {overrides === 1 ? "differs" : "differ"} from the AI.
          </>
        )}
      </p>
      {amendment && retracting && (
        <p className="error" id="signoff-retraction-text" role="status" data-testid="signoff-retraction">
          <strong>Retraction.</strong> This signature makes version {amendment.of + 1}, which withdraws version {amendment.of} and reports no valid result: no differential count, no
          CAR-T figures. Version {amendment.of} stays readable, marked retracted.
          {certifiedReason}
        </p>
      )}
      {amendment && !retracting && (
        <p className="notice" data-testid="signoff-amendment">
          This signature makes version {amendment.of + 1}, which supersedes version {amendment.of} (it stays readable). This amendment made{" "}
          {amendment.decisions} decision{amendment.decisions === 1 ? "" : "s"}; {amendment.relabelled} cell{amendment.relabelled === 1 ? " is" : "s are"} now labelled otherwise than in
          version {amendment.of}
          {amendment.decisions === 0 ? "; any change is in the case details (the report lists them)" : ""}.
          {certifiedReason}
        </p>
      )}
      {/* What the signature records, in front of the signer: every class and its share, the zeros it lists included (a 0 is signed too).
          A retraction reports none: its cells, if any, are recorded, not shown as a result. */}
      {!retracting && (
        <table data-testid="signoff-differential" aria-label="Differential count to be signed">
          <thead>
            <tr>
              <th>Class</th>
              <th className="num">n</th>
              <th className="num">% of {differential.counted} white cells</th>
            </tr>
          </thead>
          <tbody>
            {differential.rows.map((r) => (
              <tr key={r.label}>
                <td>{labelName(r.label)}</td>
                <td className="num">{r.count}</td>
                <td className="num">{rowPercentText(r)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p data-testid="signoff-specimen" style={{ margin: "0.4rem 0" }}>
        Specimen: {specimen}
      </p>
      {!retracting && <CartSummary summary={differential.summary} blood={blood} />}
      <div style={{ display: "grid", gap: "0.6rem" }}>
        {summary.failedSlides > 0 &&
          (retracting ? (
            <p className="notice" style={{ margin: 0 }} data-testid="signoff-failed-images">
              {failedImagesText(summary.failedSlides, true)}
            </p>
          ) : (
            <label className="notice" style={{ flexDirection: "row", alignItems: "flex-start", gap: "0.4rem", color: "inherit" }} data-testid="signoff-failed-images">
              <input type="checkbox" checked={withoutFailed} onChange={(e) => setWithoutFailed(e.target.checked)} data-testid="signoff-failed-ack" />
              <span>{failedImagesText(summary.failedSlides, false)}</span>
            </label>
          ))}
        {/* Typed text, not shortcuts: the review page ignores keys while this dialog is open. */}
        <label>
          {commentHeading(retracting)} ({retracting ? "optional, " : ""}printed on the report)
          <textarea
            value={comment}
            onChange={(e) => setInputs((i) => withComment(i, e.target.value))}
            maxLength={MAX_SIGNED_COMMENT}
            rows={3}
            placeholder={retracting ? "Optional: what the retraction does not say already" : "Optional: blasts or other abnormal cells, dysplasia, smear quality"}
            aria-describedby="signoff-comment-help"
            data-testid="signoff-comment"
            disabled={Boolean(blocked)}
          />
          <span id="signoff-comment-help" className="muted" style={{ fontSize: "0.8rem" }}>
            Signed with the {retracting ? "retraction" : "counts"}: {comment.length.toLocaleString("en")} of {MAX_SIGNED_COMMENT.toLocaleString("en")} characters.
          </span>
        </label>
        <label>
          Meaning of this signature
          <select
            value={meaning}
            onChange={(e) => setMeaning(e.target.value)}
            aria-describedby={amendment && retracting ? "signoff-retraction-text" : undefined}
            data-testid="signoff-meaning"
          >
            {meanings.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        {amendment && retracting && (
          <label className="notice" style={{ flexDirection: "row", alignItems: "flex-start", gap: "0.4rem", color: "inherit" }} data-testid="signoff-retraction-confirm">
            <input
              type="checkbox"
              checked={retractionConfirmed}
              onChange={(e) => setInputs((i) => ({ ...i, retractionConfirmed: e.target.checked }))}
              disabled={Boolean(blocked)}
              data-testid="signoff-retraction-ack"
            />
            <span>{retractionConfirmText(amendment.of, total)}</span>
          </label>
        )}
        {/* Both components of the signature are typed at the first signing of a session (21 CFR
            11.200(a)(1)): the signed-in session says who opened this page, not who is at the
            keyboard now. Later signings in the session take the password alone. */}
        {needsId ? (
        <label>
          Your user ID
          <input
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            value={login}
            onChange={(e) => setLogin(e.target.value)}
            data-testid="signoff-login"
            ref={loginInput}
            // Focus here, not on the meaning above: text typed into a focused <select> picks the
            // option starting with that letter and silently changes the signature's meaning.
            data-autofocus
            disabled={Boolean(blocked)}
          />
        </label>
        ) : (
          <p className="muted" style={{ margin: 0, fontSize: "0.85rem" }} data-testid="signoff-series">
            You signed earlier in this session with your user ID and password: your password alone continues the series.
          </p>
        )}
        <label>
          Your password
          <input
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="signoff-password"
            ref={passwordInput}
            data-autofocus={needsId ? undefined : ""}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "signoff-error-text" : undefined}
            disabled={Boolean(blocked)}
          />
        </label>
        <p className="muted" style={{ margin: 0, fontSize: "0.85rem" }}>
          Signing records your printed name, the date and time, this meaning and a hash of the counts you signed.
        </p>
      </div>
      <ErrorBox error={error} testId="signoff-error" id="signoff-error-text" />
      {changed && (
        // A refusal because the case changed (another reviewer, a new image) is answered by
        // looking at the changes: reload, then sign again.
        <button type="button" onClick={onReload} data-testid="signoff-reload">
          Reload the case
        </button>
      )}
      <div className="row" style={{ marginTop: "0.75rem", justifyContent: "flex-end" }}>
        <button type="button" onClick={onClose} disabled={busy} data-testid="signoff-cancel">
          Cancel
        </button>
        <button className="primary" type="submit" disabled={cannotSign || busy} data-testid="signoff-submit" title={blocked ?? undefined}>
          {busy ? "Signing…" : "Sign"}
        </button>
      </div>
    </form>
  );
}
