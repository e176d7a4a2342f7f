"use client";
// The case review screen: field view, gallery, current-cell detail, differential count and
// sign-off. All state changes go through the reducer in ./model (unit-tested); this component
// wires keys and API calls to it.
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { classColour } from "@/charts/scale";
import { useAsk } from "@/components/AskDialog";
import { ErrorBox, formatDateTime } from "@/components/ui";
import { describeError } from "@/lib/errors";
import { CellHistory, CELL_HISTORY_ID } from "./CellHistory";
import { CellImage } from "./CellImage";
import { Differential } from "./Differential";
import { imageOptionText, type NumberedImage } from "./caseImages";
import { FieldView, type SlideInfo } from "./FieldView";
import { Gallery } from "./Gallery";
import { visibleSlide } from "./visibleSlide";
import {
  aiPercentText,
  amendmentDecisions,
  basisOf,
  bulkConfirmQuestion,
  cellToSend,
  chooseIntent,
  changedSince,
  failedDecision,
  groupCells,
  HISTORY_KEY,
  initialState,
  isWithdrawn,
  jumpTarget,
  keyIntent,
  isLowConfidence,
  seenState,
  viewingOnly,
  JUMP_KEYS,
  nextCursor,
  overridesAi,
  progress,
  reduce,
  reviewDifferential,
  signedVersionOf,
  suggestionModels,
  viewKey,
  withdrawnCells,
  withdrawnCountText,
  withdrawnDecisionText,
  type BulkPolicy,
  type HumanDecision,
  type JumpKind,
  type KeyIntent,
  type ReviewCell,
  type SaveRequest,
} from "./model";
import { gradcamCaption } from "./gradcam";
import { ReasonDialog } from "./ReasonDialog";
import { SignOffDialog } from "./SignOffDialog";
import { amendmentOpenedText, noCellsNotice, reportVersionText, type OpenAmendment } from "./amendment";
import { signedRetraction } from "./signedRetraction";
import { isSigned, type CaseDetailsFields } from "@/lib/caseDetails";
import { thresholdPercent } from "@/lib/format";
import { useLeaveGuard } from "@/lib/useLeaveGuard";
import { labelKey, labelName } from "@/lib/labels";
import { WITHHELD } from "@/lib/patientRef";

export interface ReviewApi {
  /** One decision; resolves with the stored decision and the cell's new review count. */
  review(cell: ReviewCell, label: string, reason: string | null): Promise<{ decision: HumanDecision; reviewCount: number }>;
  /** Several confirmations at once (bulk confirm). */
  confirmMany(cells: ReviewCell[]): Promise<{ cellId: string; decision: HumanDecision; reviewCount: number }[]>;
  /** `seen`: the cells and decisions on this page (seenState), which the signature is bound to. */
  /** `login` null: a later signature of the session's series, the password alone. */
  signOff(meaning: string, login: string | null, password: string, seen: { seenCells: number; seenDecisions: number }, comment: string | null): Promise<void>;
}

export interface CaseHeader extends CaseDetailsFields {
  accession: string;
  /**
   * The patient reference as the signer reads it ("not recorded" when the case has none); null
   * for roles the API withholds it from (patientRefText).
   */
  patientRef: string | null;
  reportVersion: number;
  /** Whether the models that classified the cells can call CAR-T (Differential.cartAssessed). */
  cartAssessed: boolean;
  /**
   * The classes the signed differential lists even at 0 (Differential.screenedClasses): the live
   * differential and the sign-off dialog show these and the labels with cells, as the signature
   * records them.
   */
  screenedClasses: readonly string[];
  /** The current signed version's morphology comment (null: none, or it is a retraction's note): an amendment starts from it. */
  signedComment: string | null;
  /** The current signed version is a retraction (D10: no valid result); false when none is signed. */
  retracted: boolean;
  /** The amendment open (who opened it, when, why: the reason the next signature certifies); null when none is. */
  amendment: OpenAmendment | null;
}

/** An image under review: what the field view draws, and its name (imageName) as the Images panel gives it. */
export type ReviewSlide = SlideInfo & Pick<NumberedImage, "number" | "originalName">;

export function ReviewWorkspace({
  header,
  labels,
  slides,
  analysingSlides = 0,
  failedSlides = 0,
  voidedSlides = 0,
  cells: initialCells,
  api,
  readOnly,
  signer,
  reviewerLogin,
  minConfidence,
  bulkExcludedLabels,
  onSigned,
  onReload,
}: {
  header: CaseHeader;
  labels: string[];
  /**
   * The images whose cells are reviewed, each with its number among all of the case's images
   * (numberImages: the Images panel's number for it) and its file name where the role is shown it.
   */
  slides: ReviewSlide[];
  /** Images still being analysed (not in `slides`' cells yet): the empty gallery says so. */
  analysingSlides?: number;
  /** Images whose analysis failed: their cells are not in the count the signature records. */
  failedSlides?: number;
  /** Images voided (their cells out of the review): all of them voided in an amendment, a retraction closes it. */
  voidedSlides?: number;
  cells: ReviewCell[];
  api: ReviewApi;
  readOnly: boolean;
  /** Printed name of the signed-in user (shown in the sign-off dialog). */
  signer: string;
  /** Login of the signed-in user: their own decisions of this round are not saved again. */
  reviewerLogin: string;
  /** The API's review policy (Query.reviewPolicy): AI calls under it are flagged, not bulk-confirmed. */
  minConfidence: number;
  /** The API's review policy (Query.reviewPolicy.bulkExcludedLabels): labels confirmed one by one, never in bulk (CAR-T). */
  bulkExcludedLabels: readonly string[];
  onSigned: () => void;
  /** Fetch the case again from the server (after a conflict with another reviewer). */
  onReload: () => void;
}) {
  const [state, dispatch] = useReducer(reduce, undefined, () =>
    initialState(labels, initialCells, { me: reviewerLogin, round: header.reportVersion, minConfidence }),
  );
  const [signOpen, setSignOpen] = useState(false);
  const [characterKeys, setCharacterKeys] = useCharacterKeys();
  const characterKeysRef = useRef(characterKeys);
  characterKeysRef.current = characterKeys;
  const { ask, dialog: askDialog } = useAsk();
  // The image chosen; the one shown is `slide` (visibleSlide), which this may no longer name.
  const [slideId, setSlideId] = useState<string | null>(() => visibleSlide(slides, null, null)?.id ?? null);
  const stateRef = useRef(state);
  stateRef.current = state;

  // A reload hands in fresh cells from the server: they replace the local ones (the first
  // render's cells are already the reducer's initial state).
  const firstCells = useRef(initialCells);
  useEffect(() => {
    if (initialCells !== firstCells.current) dispatch({ type: "replaceCells", cells: initialCells });
  }, [initialCells]);

  const groups = useMemo(() => groupCells(state.labels, state.cells), [state.labels, state.cells]);
  // One object, so that the (memoised) gallery re-renders only when the policy does.
  const bulkPolicy = useMemo<BulkPolicy>(() => ({ minConfidence, excludedLabels: bulkExcludedLabels }), [minConfidence, bulkExcludedLabels]);
  // The rows the signature records, live and in the sign-off dialog alike (what the signer sees is what they sign).
  const diff = useMemo(
    () => reviewDifferential(state.labels, state.cells, { cartAssessed: header.cartAssessed, screenedClasses: header.screenedClasses }),
    [state.labels, state.cells, header.cartAssessed, header.screenedClasses],
  );
  const failure = failedDecision(state);
  const prog = useMemo(() => progress(state.cells), [state.cells]);
  // Cells a retraction withdrew and still counted: a result is not signed over them (the API's rule).
  const retracted = useMemo(() => withdrawnCells(state.cells), [state.cells]);
  // The case's signed version is a retraction: its cells are recorded, never shown as a result.
  const retraction = signedRetraction(header, prog.total);
  // Where each jump button goes (null: nowhere, the button is disabled); the keys take the same.
  const jumps = useMemo(() => ({ nextUnreviewed: jumpTarget(state, "nextUnreviewed"), nextLowConfidence: jumpTarget(state, "nextLowConfidence") }), [state]);
  const models = useMemo(() => suggestionModels(state.cells), [state.cells]);
  const withdrawn = models.filter((m) => m.withdrawn);
  // What absolute counts come from, as the signature will take it (the failed images are not here).
  const blood = useMemo(
    () => ({ specimen: header.specimen, wbcCount: header.wbcCount, fromCrops: slides.some((s) => s.kind === "CROP") }),
    [header.specimen, header.wbcCount, slides],
  );
  const current = state.cells.find((c) => c.id === state.cursor) ?? null;
  // Shown: the image chosen, or once it has been voided and reloaded away, the cursor's or the first.
  const slide = visibleSlide(slides, slideId, current?.slideId ?? null);
  const shownSlideId = slide?.id ?? null;
  // A decision still saving, or one that failed, would be lost by leaving: the cell would show its
  // old label as decided, and sign-off would no longer wait for it.
  useLeaveGuard(
    state.saving.size > 0 || state.unsaved.size > 0,
    "A review decision has not been saved. Leave this case anyway? The cell will keep its previous label.",
  );

  // Follow the cursor to its slide and into view in the gallery, when the cursor moves or its cell
  // is reclassified into another group (viewKey: the tile is then drawn elsewhere): a slide
  // chosen in the selector (one with no cells, to look for cells the detector missed) stays.
  const followed = useRef<{ id: string; key: string } | null>(null);
  useEffect(() => {
    if (!current || followed.current?.key === viewKey(current)) return;
    const sameCell = followed.current?.id === current.id;
    followed.current = { id: current.id, key: viewKey(current) };
    if (current.slideId !== shownSlideId && !sameCell) setSlideId(current.slideId);
    document.querySelector(`[data-testid="cell-tile"][data-cell-id="${current.id}"]`)?.scrollIntoView({ block: "nearest" });
  }, [current, shownSlideId]);

  const save = useCallback(
    async (req: SaveRequest, advance: boolean, bulk = false) => {
      const s = stateRef.current;
      const targets = s.cells.filter((c) => req.cellIds.includes(c.id));
      if (!targets.length) return;
      const sent: SaveRequest = bulk || req.basedOn ? req : { ...req, basedOn: basisOf(targets[0]!) };
      dispatch({ type: "saving", cellIds: req.cellIds });
      if (advance && targets.length === 1) {
        // Cells still saving count as decided: keys pressed faster than saves return move on.
        const next = nextCursor(s, targets[0]!.id, new Set([...req.cellIds, ...s.saving]));
        if (next) dispatch({ type: "select", cellId: next });
      }
      try {
        if (!bulk) {
          const t = targets[0]!;
          // A retry goes out against the cell as first decided on (cellToSend), never as reloaded.
          const r = await api.review(cellToSend(t, sent), req.label, req.reason);
          dispatch({ type: "saved", cellId: t.id, ...r });
        } else {
          const results = await api.confirmMany(targets);
          for (const r of results) dispatch({ type: "saved", ...r });
        }
      } catch (error) {
        dispatch({ type: "failed", cellIds: req.cellIds, message: describeError(error), ...(bulk ? {} : { request: sent }) });
      }
    },
    [api],
  );

  // Retry checks the cell again at the click: a reload may have landed since the button was drawn.
  const retry = useCallback(() => {
    const f = failedDecision(stateRef.current);
    if (f?.retry) void save(f.request, false);
  }, [save]);

  // What a key or a decision button asked for: a state change, or a save (with "advance to the
  // next unreviewed cell" for a decision on the current cell).
  const apply = useCallback(
    (intent: KeyIntent, advance: boolean) => {
      if (intent.kind === "dispatch") dispatch(intent.action);
      else if (intent.kind === "save") void save(intent.request, advance);
    },
    [save],
  );

  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      // A held key repeats about 30 times a second: each repeat would decide the next cell,
      // unseen (low-confidence ones too). One press, one decision.
      if (e.repeat) return;
      const target = e.target as HTMLElement | null;
      // Any open dialog owns the keyboard, wherever focus landed (a click on its text moves focus
      // to the page body): a key must not decide the cell hidden behind it.
      if (signOpen || document.querySelector("dialog[open]") || target?.closest("input, textarea, select, dialog, [contenteditable]")) return;
      // Enter on a focused link or button is that control's own (keyboard users follow links and
      // press buttons with it); it must not confirm a cell instead.
      if (e.key === "Enter" && target?.closest("a, button, summary, [role=button]")) return;
      // Single-character keys (labels, G) can be switched off (WCAG 2.1.4): speech input and a
      // tremor type characters nobody meant as decisions. Arrows, Enter and Backspace stay.
      if (!characterKeysRef.current && e.key.length === 1) return;
      const intent = keyIntent(stateRef.current, e.key, { ctrl: e.ctrlKey, alt: e.altKey, meta: e.metaKey });
      // A signed case is still read by keyboard: arrows and G work, decisions do not.
      if (intent.kind === "none" || (readOnly && !viewingOnly(intent))) return;
      e.preventDefault();
      apply(intent, e.key === "Enter");
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [readOnly, apply, signOpen]);

  // The page-speed bench (e2e/bench/reviewSpeed.ts) reads this mark: the moment the keyboard
  // handlers are attached, i.e. the review page is interactive.
  useEffect(() => {
    if (performance.getEntriesByName("review-interactive").length === 0) performance.mark("review-interactive");
  }, []);

  // Selecting a cell shows its slide, even the cursor's own cell after another slide was chosen.
  const onSelect = useCallback((id: string) => {
    const cell = stateRef.current.cells.find((c) => c.id === id);
    if (cell) setSlideId(cell.slideId);
    dispatch({ type: "select", cellId: id });
  }, []);
  // Bulk confirm records a human decision for cells the reviewer may not have looked at one by
  // one: it asks first, naming how many and the least certain AI call among them.
  const onBulk = useCallback(
    async (ids: string[]) => {
      const chosen = stateRef.current.cells.filter((c) => ids.includes(c.id));
      if (!chosen.length) return;
      // The least certain call written as its tile writes it (rounded down), not rounded up past it.
      const answer = await ask({ ...bulkConfirmQuestion(chosen), confirmOnly: true });
      if (answer === null) return;
      // What the dialog named is what is confirmed: a reload that landed while it was open (a
      // new champion's call, a colleague's decision) sends nothing, as the API would refuse it.
      const moved = changedSince(chosen, stateRef.current.cells);
      if (moved > 0) {
        dispatch({
          type: "failed",
          cellIds: ids,
          message: `${moved} of these ${chosen.length} cells changed while you were asked (a new AI call or a colleague's decision): look at them again; nothing was confirmed`,
        });
        return;
      }
      void save({ cellIds: ids, label: "", reason: null }, false, true);
    },
    [save, ask],
  );
  const slideCells = useMemo(() => state.cells.filter((c) => c.slideId === shownSlideId), [state.cells, shownSlideId]);
  const unreviewed = prog.total - prog.reviewed;
  // No cell to review: say why, and during an amendment offer the signature that can still close it.
  const noCells = noCellsNotice({
    amending: readOnly ? null : (header.amendment?.of ?? null),
    signed: isSigned(header.status),
    images: slides.length,
    voided: voidedSlides,
    failed: failedSlides,
    analysing: analysingSlides,
  });
  const offerRetraction = !readOnly && prog.total === 0 && noCells.retract;

  return (
    <div data-testid="review-workspace" data-ready="true">
      <div className="row" style={{ justifyContent: "space-between", alignItems: "center", marginBottom: "0.5rem" }}>
        <div>
          <h1 style={{ marginBottom: 0 }}>
            Case <span data-testid="case-accession">{header.accession}</span>{" "}
            <span className={`badge ${header.priority}`}>{header.priority}</span>{" "}
            <span className="badge" data-testid="case-status">
              {header.status}
            </span>
          </h1>
          <span className="muted">
            {[header.product, header.timepoint].filter(Boolean).join(" · ") || "No product / timepoint recorded"} ·{" "}
            {header.patientRef !== null && (
              <>
                patient <span data-testid="review-patient">{header.patientRef}</span> ·{" "}
              </>
            )}
            <span data-testid="review-specimen">{specimenLine(header)}</span> · report version{" "}
            <span data-testid="review-report-version">{reportVersionText(header.status, header.reportVersion, header.retracted)}</span>
          </span>
          {retraction && (
            <p className="error" role="alert" data-testid="review-retracted" style={{ margin: "0.3rem 0 0" }}>
              <strong>RETRACTED.</strong> {retraction.banner}
            </p>
          )}
          {header.amendment && (
            // Whoever signs certifies this reason (it is signed as the amendment's), and may not be
            // the one who opened the amendment: it is in front of them while they work on it.
            <p className="notice" style={{ margin: "0.3rem 0 0" }} data-testid="review-amendment">
              {amendmentOpenedText(header.amendment)} Version {header.amendment.of} stays the report of record until version {header.amendment.of + 1} is signed.
            </p>
          )}
        </div>
        <div style={{ minWidth: 260 }}>
          <div data-testid="review-progress">
            <strong>{prog.reviewed}</strong> of <strong>{prog.total}</strong> reviewed
          </div>
          <progress max={Math.max(1, prog.total)} value={prog.reviewed} aria-label="Review progress" />
          {retracted && (
            // Reviewed, but their decisions were withdrawn: they need attention as much as undecided cells.
            <div className="badge URGENT" data-testid="review-withdrawn-progress" title={`Each is decided again if that retraction was wrong, or its image is voided`}>
              {withdrawnCountText(retracted)}
            </div>
          )}
        </div>
      </div>
      {models.length > 0 && (
        <p className="muted" style={{ margin: "0 0 0.4rem" }} data-testid="review-suggestion-models">
          AI suggestions by{" "}
          {models.map((m) => `${m.name}${m.withdrawn ? " (withdrawn)" : m.champion ? "" : " (no longer champion)"}${models.length > 1 ? ` (${m.cells} cells)` : ""}`).join(", ")}
        </p>
      )}
      {withdrawn.length > 0 && !readOnly && (
        <p className="notice" role="alert" data-testid="review-withdrawn-model">
          Suggestions on this case were made by {withdrawn.map((m) => m.name).join(" and ")}, which a rollback
          withdrew from service: check each cell rather than confirming in bulk.
        </p>
      )}
      {failure && !state.error && (
        // After a reload (or a dismissed message) the decision that failed is still on offer, but
        // retried only if its cell was not decided since: a colleague's decision is not undone by
        // one click, it is looked at and the cell decided again.
        <div className="row" style={{ alignItems: "center" }}>
          <p className="notice" style={{ margin: 0 }} data-testid="review-failed-request">
            Your decision “{labelName(failure.request.label)}”
            {failure.request.reason ? ` (reason: “${failure.request.reason}”)` : ""} was not saved.
            {!failure.retry && (
              <span data-testid="review-failed-decided-meanwhile">
                {failure.why === "decided"
                  ? ` This cell was decided meanwhile (now ${labelName(failure.now)}): decide again.`
                  : ` The AI's label for this cell changed meanwhile (a new model predicted it again; now ${labelName(failure.now)}): decide again.`}
              </span>
            )}
          </p>
          <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => dispatch({ type: "select", cellId: failure.cellId })} data-testid="review-failed-cell">
            Go to that cell
          </button>
          {failure.retry && <RetryButton busy={state.saving.has(failure.cellId)} onRetry={retry} />}
          <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => dispatch({ type: "discardFailed" })} data-testid="review-failed-discard">
            Discard
          </button>
        </div>
      )}
      {state.error && (
        <div className="row" style={{ alignItems: "center" }}>
          <ErrorBox error={state.error} testId="review-error" />
          {failure?.retry && failure.cellId === state.errorCellId && <RetryButton busy={state.saving.has(failure.cellId)} onRetry={retry} />}
          {state.errorCellId && (
            <button
              type="button"
              // Focus stays on the page, as for every review control: Enter then decides a cell.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => dispatch({ type: "select", cellId: state.errorCellId! })}
              data-testid="review-error-cell"
            >
              Go to that cell
            </button>
          )}
          <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={onReload} data-testid="review-reload">
            Reload case
          </button>
          <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => dispatch({ type: "dismissError" })} data-testid="review-dismiss-error">
            Dismiss
          </button>
        </div>
      )}
      {offerRetraction && (
        <div className="notice row" style={{ alignItems: "center", justifyContent: "space-between" }} data-testid="review-no-cells">
          <span>{noCells.text}</span>
          <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => setSignOpen(true)} data-testid="review-sign-retraction">
            Sign a retraction…
          </button>
        </div>
      )}
      {readOnly && (
        <p className="notice" data-testid="review-readonly">
          This case is {header.status.toLowerCase().replace("_", " ")}: decisions are read-only here.
        </p>
      )}
      <div className="review">
        <div>
          {slides.length > 1 && (
            <div className="row" style={{ marginBottom: "0.4rem" }}>
              <label>
                Image
                <select
                  value={shownSlideId ?? ""}
                  // Focus goes back to the page, so number keys and arrows decide and move again.
                  onChange={(e) => {
                    setSlideId(e.target.value);
                    e.target.blur();
                  }}
                  data-testid="slide-select"
                >
                  {/* Named as the Images panel names it: the same number (voided and failed images
                      counted), the file name where the role is shown it. */}
                  {slides.map((s) => (
                    <option key={s.id} value={s.id}>
                      {imageOptionText(s, s.number)}
                    </option>
                  ))}
                </select>
              </label>
            </div>
          )}
          {slide && slide.kind === "FIELD" ? (
            <FieldView slide={slide} cells={slideCells} labels={state.labels} cursor={state.cursor} onSelect={onSelect} />
          ) : null}
          <h2>Cells by class</h2>
          <Gallery
            groups={groups}
            labels={state.labels}
            cursor={state.cursor}
            saving={state.saving}
            gradcam={state.gradcam}
            disabled={readOnly}
            policy={bulkPolicy}
            onSelect={onSelect}
            onBulkConfirm={onBulk}
            emptyText={noCells.text}
          />
        </div>
        <aside className="side">
          {/* One short line is announced as the arrow keys move, for screen-reader users (tiles never
              take focus); the panel itself, with its buttons, is not read out on every move. */}
          <div className="sr-only" aria-live="polite" data-testid="current-cell-announcement">
            {current ? announce(current) : ""}
          </div>
          <div className="panel" data-testid="current-cell">
            <h2 style={{ marginTop: 0 }}>Current cell</h2>
            {current ? (
              <CurrentCell cell={current} gradcam={state.gradcam} labels={state.labels} minConfidence={minConfidence} amending={!readOnly && header.reportVersion > 0 ? header.reportVersion : null} />
            ) : (
              <p className="muted">No cell selected.</p>
            )}
            {/* What the letter keys do, as buttons: with those keys switched off (or never used),
                Grad-CAM, the jumps and the history are a click away. Viewing only: a read-only case has them too. */}
            {state.cells.length > 0 && (
              <div className="row" style={{ marginTop: "0.6rem", gap: "0.3rem", flexWrap: "wrap", fontSize: "0.85rem" }} data-testid="cell-navigation">
                {(["nextUnreviewed", "nextLowConfidence"] as const).map((kind) => (
                  <JumpButton key={kind} kind={kind} target={jumps[kind]} keys={characterKeys} onJump={onSelect} />
                ))}
                {current && (
                  <button
                    type="button"
                    onMouseDown={(e) => e.preventDefault()}
                    onClick={() => dispatch({ type: "toggleGradcam" })}
                    aria-pressed={state.gradcam}
                    title="Show the AI's attention map (Grad-CAM) beside the cell"
                    data-testid="gradcam-toggle"
                  >
                    Grad-CAM {characterKeys && <kbd>G</kbd>}
                  </button>
                )}
                {current && (
                  <button
                    type="button"
                    onMouseDown={(e) => e.preventDefault()}
                    onClick={() => dispatch({ type: "toggleHistory" })}
                    aria-expanded={state.history}
                    aria-controls={state.history ? CELL_HISTORY_ID : undefined}
                    data-testid="history-toggle"
                  >
                    {/* One name whatever its state (aria-expanded says it), as a disclosure button should. */}
                    <span aria-hidden="true">{state.history ? "▾" : "▸"}</span> History {characterKeys && <kbd>{HISTORY_KEY.toUpperCase()}</kbd>}
                  </button>
                )}
              </div>
            )}
            {current && !readOnly && (
              <DecisionButtons
                labels={state.labels}
                current={current.currentLabel}
                busy={state.saving.has(current.id)}
                keys={characterKeys}
                onChoose={(label) => apply(chooseIntent(stateRef.current, label), label === current.currentLabel)}
              />
            )}
          </div>
          {state.history && current && <CellHistory cellId={current.id} reviewCount={current.reviewCount} />}
          {readOnly ? (
            // Read-only, only moving around works: say so, rather than hide the keys that still do.
            <section className="panel keys" aria-label="Keyboard shortcuts" data-testid="readonly-keys">
              <p style={{ fontSize: "0.85rem", margin: 0 }}>
                <kbd>←</kbd>/<kbd>→</kbd> move · <Key k={JUMP_KEYS.nextUnreviewed.toUpperCase()} on={characterKeys} /> next unreviewed ·{" "}
                <Key k={JUMP_KEYS.nextLowConfidence.toUpperCase()} on={characterKeys} /> next low-confidence · <Key k="G" on={characterKeys} /> Grad-CAM{" "}
                {state.gradcam ? "on" : "off"} · <Key k={HISTORY_KEY.toUpperCase()} on={characterKeys} /> history
              </p>
              <KeysOffNote on={characterKeys} />
              <CharacterKeysBox on={characterKeys} set={setCharacterKeys} readOnly />
            </section>
          ) : (
          <section className="panel keys" aria-label="Keyboard shortcuts">
            <h3 style={{ marginTop: 0 }}>Keys</h3>
            <div style={{ display: "flex", flexWrap: "wrap", gap: "0.3rem 0.8rem", fontSize: "0.85rem" }} data-testid="label-keys">
              {state.labels
                .map((label) => ({ label, key: labelKey(label) }))
                .filter(({ key }) => key !== null)
                .map(({ label, key }) => (
                  <span key={label} data-label={label}>
                    <Key k={key!} on={characterKeys} /> {labelName(label)}
                  </span>
                ))}
            </div>
            <p style={{ fontSize: "0.85rem", margin: "0.4rem 0 0" }} data-testid="review-keys-help">
              <kbd>←</kbd>/<kbd>→</kbd> move · <kbd>Enter</kbd> confirm · <kbd>⌫</kbd> back to the last decided cell ·{" "}
              <Key k={JUMP_KEYS.nextUnreviewed.toUpperCase()} on={characterKeys} /> next unreviewed ·{" "}
              <Key k={JUMP_KEYS.nextLowConfidence.toUpperCase()} on={characterKeys} /> next low-confidence · <Key k="G" on={characterKeys} /> Grad-CAM{" "}
              {state.gradcam ? "on" : "off"} · <Key k={HISTORY_KEY.toUpperCase()} on={characterKeys} /> history
            </p>
            <KeysOffNote on={characterKeys} />
            <CharacterKeysBox on={characterKeys} set={setCharacterKeys} readOnly={false} />
          </section>
          )}
          <div className="panel">
            {retraction ? (
              // As on the report: a retraction's cells are recorded with it, never presented as a count.
              <>
                <h3 style={{ marginTop: 0 }}>Result</h3>
                <p className="notice" data-testid="review-no-result">
                  <strong>{retraction.noResult}</strong>
                </p>
              </>
            ) : (
              <>
                <h3 style={{ marginTop: 0 }}>Differential count</h3>
                <Differential rows={diff.rows} counted={diff.counted} total={diff.total} labels={state.labels} summary={diff.summary} blood={blood} />
              </>
            )}
            <p className="muted" data-testid="intended-use" style={{ marginBottom: 0 }}>
              Research use only: CAR-T cells are identified by morphology, not validated against flow cytometry. Not for diagnostic use.
            </p>
          </div>
          {!readOnly && (
            <div className="panel">
              <button className="primary" type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => setSignOpen(true)} data-testid="open-signoff">
                {offerRetraction ? "Sign a retraction…" : "Sign off…"}
              </button>
              {unreviewed > 0 && (
                <span className="muted" style={{ marginLeft: "0.5rem" }}>
                  {unreviewed} cell{unreviewed === 1 ? "" : "s"} still unreviewed
                </span>
              )}
              {retracted && (
                <p className="notice" style={{ margin: "0.5rem 0 0" }} data-testid="signoff-withdrawn-cells">
                  {withdrawnCountText(retracted)}: signing a result is blocked until each is decided again (if that retraction was wrong) or its image is
                  voided.
                </p>
              )}
            </div>
          )}
        </aside>
      </div>
      <ReasonDialog
        prompt={state.prompt}
        cell={state.prompt ? (state.cells.find((c) => c.id === state.prompt!.cellIds[0]) ?? null) : null}
        onCancel={() => dispatch({ type: "cancelPrompt" })}
        onSubmit={(reason) => {
          const p = stateRef.current.prompt;
          if (p) void save({ cellIds: p.cellIds, label: p.label, reason }, true);
        }}
      />
      <SignOffDialog
        open={signOpen}
        onClose={() => setSignOpen(false)}
        summary={{ signer, accession: header.accession, patientRef: header.patientRef, specimen: specimenLine(header), blood, differential: diff, total: prog.total, unreviewed, overrides: prog.overrides, unsavedDecisions: state.unsaved.size, failedSlides, withdrawn: readOnly ? null : retracted, amendment: readOnly ? null : amendmentDecisions(state.cells, header.reportVersion), amendmentOpened: header.amendment, signedComment: header.signedComment }}
        saving={state.saving.size > 0}
        onSign={async (meaning, login, password, comment) => {
          await api.signOff(meaning, login, password, seenState(stateRef.current.cells), comment);
          setSignOpen(false);
          onSigned();
        }}
        onReload={() => {
          setSignOpen(false);
          onReload();
        }}
      />
      {askDialog}
    </div>
  );
}

/** Sends the decision that failed again, label and typed reason as they were (focus stays on the page). */
function RetryButton({ busy, onRetry }: { busy: boolean; onRetry: () => void }) {
  return (
    <button type="button" disabled={busy} onMouseDown={(e) => e.preventDefault()} onClick={onRetry} data-testid="review-retry">
      Retry
    </button>
  );
}

/** "AI Neutrophil 93%, not reviewed": what a screen reader says when the cursor lands on a cell. */
function announce(cell: ReviewCell): string {
  const ai = cell.ai ? (cell.ai.abstained ? "AI abstained" : `AI ${labelName(cell.ai.label)} ${aiPercentText(cell.ai.confidence)}`) : "no AI call";
  const withdrawn = isWithdrawn(cell) ? `, withdrawn by the retraction signed as version ${cell.withdrawnInVersion}` : "";
  return `${ai}, ${cell.decision ? `decided ${labelName(cell.decision.label)}` : "not reviewed"}${withdrawn}`;
}

const JUMP_TEXT: Record<JumpKind, { text: string; none: string }> = {
  nextUnreviewed: { text: "Next unreviewed", none: "No other cell needs a decision" },
  nextLowConfidence: { text: "Next low-confidence", none: "No other low-confidence cell" },
};

/**
 * A jump of the keyboard map (U, L) as a button: the same target (jumpTarget), disabled when there
 * is none. It never takes focus, so the keys keep working after a click.
 */
function JumpButton({ kind, target, keys, onJump }: { kind: JumpKind; target: string | null; keys: boolean; onJump: (id: string) => void }) {
  const { text, none } = JUMP_TEXT[kind];
  return (
    <button
      type="button"
      disabled={target === null}
      title={target === null ? none : undefined}
      onMouseDown={(e) => e.preventDefault()}
      onClick={() => target !== null && onJump(target)}
      data-testid={kind === "nextUnreviewed" ? "jump-unreviewed" : "jump-low-confidence"}
    >
      {text} {keys && <kbd>{JUMP_KEYS[kind].toUpperCase()}</kbd>}
    </button>
  );
}

/** A single-character shortcut in the key help: struck through, and said to be off, while such keys are switched off. */
function Key({ k, on }: { k: string; on: boolean }) {
  if (on) return <kbd>{k}</kbd>;
  return (
    <>
      <kbd className="off" title="Switched off" data-off="true">
        {k}
      </kbd>
      <span className="sr-only"> (off)</span>
    </>
  );
}

function KeysOffNote({ on }: { on: boolean }) {
  if (on) return null;
  return (
    <p className="muted" style={{ fontSize: "0.85rem", margin: "0.4rem 0 0" }} data-testid="keys-off-note">
      Struck-through keys are switched off: use the buttons (decisions, jumps, Grad-CAM, history).
    </p>
  );
}

/**
 * Single-character shortcuts on or off (WCAG 2.1.4), in this browser: a signed case is read with
 * them too (jumps, Grad-CAM, history), so the box is offered there as well.
 */
function CharacterKeysBox({ on, set, readOnly }: { on: boolean; set: (on: boolean) => void; readOnly: boolean }) {
  return (
    <label style={{ flexDirection: "row", alignItems: "center", fontSize: "0.85rem", marginTop: "0.4rem" }}>
      <input
        type="checkbox"
        checked={on}
        onChange={(e) => {
          set(e.target.checked);
          e.target.blur(); // the page listens for the keys, not the box (Space would toggle it again)
        }}
        data-testid="character-keys"
      />
      {readOnly
        ? "Letter keys jump and show Grad-CAM or the history (off: use the buttons; arrows still work)"
        : "Number and letter keys decide cells (off: use the buttons; arrows and Enter still work)"}
    </label>
  );
}

/**
 * The decisions of the keyboard map as buttons, for a mouse or a touch screen, and for labels
 * beyond the ninth (no number key). They never take focus, so the keys keep working after a click.
 */
function DecisionButtons({ labels, current, busy, keys, onChoose }: { labels: readonly string[]; current: string; busy: boolean; keys: boolean; onChoose: (label: string) => void }) {
  return (
    <fieldset className="row" style={{ flexWrap: "wrap", gap: "0.3rem", margin: "0.6rem 0 0", padding: 0, border: 0 }} aria-label="Decide this cell" data-testid="decision-buttons">
      <button type="button" className="primary" disabled={busy} onMouseDown={(e) => e.preventDefault()} onClick={() => onChoose(current)} data-testid="decide-confirm">
        Confirm {labelName(current)} <kbd>Enter</kbd>
      </button>
      {labels
        .map((label) => ({ label, key: labelKey(label) }))
        .filter(({ label }) => label !== current)
        .map(({ label, key }) => (
          <button key={label} type="button" disabled={busy} onMouseDown={(e) => e.preventDefault()} onClick={() => onChoose(label)} data-testid={`decide-${label}`}>
            {labelName(label)} {keys && key && <kbd>{key}</kbd>}
          </button>
        ))}
    </fieldset>
  );
}

/** `amending`: the signed versions so far when an amendment is open, else null. */
function CurrentCell({
  cell,
  gradcam,
  labels,
  minConfidence,
  amending,
}: {
  cell: ReviewCell;
  gradcam: boolean;
  labels: readonly string[];
  minConfidence: number;
  amending: number | null;
}) {
  const ai = cell.ai;
  const signedIn = cell.decision && amending !== null ? signedVersionOf(cell.decision, amending) : null;
  const border = { borderRadius: 6, border: `3px solid ${classColour(labels, cell.currentLabel)}` };
  return (
    <div style={{ display: "grid", gridTemplateColumns: gradcam ? "264px 1fr" : "128px 1fr", gap: "0.75rem" }}>
      {gradcam ? (
        // Beside the crop, not over it: the heat map hides the granules and chromatin it is
        // meant to be read against, and it explains the AI's call, which may not be the label
        // the cell now carries.
        <figure style={{ margin: 0 }}>
          <div className="row" style={{ gap: 8, flexWrap: "nowrap" }}>
            <CellImage cell={cell} gradcam={false} size={128} alt="Current cell" style={border} testId="current-crop" />
            <CellImage cell={cell} gradcam size={128} alt="Current cell" style={border} testId="current-gradcam" />
          </div>
          <figcaption className="muted" style={{ fontSize: "0.75rem" }} data-testid="gradcam-caption">
            {gradcamCaption(cell)}
          </figcaption>
        </figure>
      ) : (
        <CellImage cell={cell} gradcam={false} size={128} alt="Current cell" style={border} testId="current-crop" />
      )}
      <div style={{ fontSize: "0.9rem" }}>
        <div>
          <span className="badge ai">AI</span>{" "}
          <span data-testid="current-ai-label" data-label={ai?.label}>
            {ai ? (ai.abstained ? `abstained → unidentified (best guess ${labelName(ai.label)})` : labelName(ai.label)) : "no prediction"}
          </span>
          {ai && (
            <span className="muted" data-testid="current-ai-confidence">
              {" "}
              {(Math.floor(ai.confidence * 1000) / 10).toFixed(1)}% · {ai.modelVersion}
            </span>
          )}
          {isLowConfidence(cell, minConfidence) && (
            <span className="badge URGENT" data-testid="current-low-confidence" title={`Under ${thresholdPercent(minConfidence)} AI confidence: not taken by bulk confirm`}>
              {" "}
              low confidence
            </span>
          )}
        </div>
        <div style={{ marginTop: "0.4rem" }}>
          <span className="badge human">Human</span>{" "}
          {cell.decision ? (
            <span data-testid="current-human-label">
              {cell.decision.action === "CONFIRM" ? "confirmed" : "reclassified to"} <strong>{labelName(cell.decision.label)}</strong> by {cell.decision.reviewer}
              {/* Withheld from roles that may not see patient data (free text may name one): said, not left blank. */}
              {cell.decision.reasonWithheld ? (
                <span className="muted" data-testid="current-decision-reason-withheld">
                  {" "}
                  — reason {WITHHELD}
                </span>
              ) : cell.decision.reason ? (
                <> — “{cell.decision.reason}”</>
              ) : null}
              <span className="muted"> · {formatDateTime(cell.decision.at)}</span>
              {signedIn !== null && (
                <span
                  className="badge"
                  data-testid="current-decision-version"
                  title={isWithdrawn(cell) ? withdrawnDecisionText(cell.withdrawnInVersion!) : "Made before this amendment; it stands unless you change it"}
                >
                  {" "}
                  signed in version {signedIn}
                </span>
              )}
            </span>
          ) : (
            <span className="muted" data-testid="current-human-label">
              not reviewed
            </span>
          )}
        </div>
        {isWithdrawn(cell) && (
          // In place of "it stands": a result is refused while this decision is the cell's last.
          <p className="notice" style={{ margin: "0.4rem 0 0" }} data-testid="current-decision-withdrawn">
            Decision {withdrawnDecisionText(cell.withdrawnInVersion!)}.
          </p>
        )}
        {cell.decision && ai && overridesAi(cell, cell.decision.label) && (
          <div className="badge bad" style={{ marginTop: "0.4rem" }}>
            Overrides the AI
          </div>
        )}
      </div>
    </div>
  );
}

/** "peripheral blood, collected 2026-11-20 08:30:00 UTC, WBC 4.2 ×10⁹/L": what the signature records of the specimen. */
export function specimenLine(h: Pick<CaseHeader, "specimen" | "collectedAt" | "wbcCount">): string {
  return [
    h.specimen ?? "specimen not recorded",
    h.collectedAt ? `collected ${formatDateTime(h.collectedAt)}` : null,
    h.wbcCount !== null ? `WBC ${h.wbcCount} ×10⁹/L` : "no WBC count",
  ]
    .filter(Boolean)
    .join(", ");
}

const CHARACTER_KEYS_SETTING = "rcmnet.review.characterKeys";

/** The reviewer's choice of single-character shortcuts, kept in this browser (on unless turned off). */
function useCharacterKeys(): [boolean, (on: boolean) => void] {
  const [on, setOn] = useState(true);
  useEffect(() => setOn(window.localStorage.getItem(CHARACTER_KEYS_SETTING) !== "off"), []);
  const set = useCallback((value: boolean) => {
    setOn(value);
    window.localStorage.setItem(CHARACTER_KEYS_SETTING, value ? "on" : "off");
  }, []);
  return [on, set];
}
