// The review page's state, as a pure reducer so that keyboard handling, grouping and the
// differential count are unit-tested without a browser.
//
// Two things are kept visibly apart (CellaVision's verify workflow): what the AI said
// (`ai`: immutable prediction) and what a human decided (`decision`: the latest review). A cell
// is "reviewed" once a human decided on it; in an amendment the decisions of the signed
// versions stand (the API's sign-off rule) and are marked as such, so the reviewer sees which
// ones this amendment made.

import { meaningsFor } from "@rcmnet/api/signOffMeanings";
import { isUnidentified, NOT_WHITE_CELLS } from "@/lib/differential";
import { thresholdPercent } from "@/lib/format";
import { BLAST, labelKey, labelName } from "@/lib/labels";
import { type WhiteCellDifferential, whiteCellDifferential } from "@/lib/differential";

export interface AiPrediction {
  label: string;
  confidence: number;
  abstained: boolean;
  modelVersion: string;
  /** Whether the model that made it is the champion now (said beside the suggestions). */
  fromChampion?: boolean;
  /**
   * Whether an approved rollback withdrew that model (or the API did not say): its suggestions are
   * not confirmed in bulk (the API refuses them too), and the page warns. A model merely succeeded
   * by a promotion is not withdrawn.
   */
  withdrawn?: boolean;
}

export interface HumanDecision {
  action: "CONFIRM" | "RECLASSIFY";
  label: string;
  reviewer: string;
  /** The reviewer's login: whether a decision is the signed-in reviewer's own (decidedAlready). */
  reviewerLogin?: string;
  reason: string | null;
  /** A reason was given and the API withholds it from the reader's role (Review.reasonWithheld). */
  reasonWithheld?: boolean;
  at: string;
  /** Signed report versions of the case when the decision was made (0: before the first sign-off). */
  reportVersion?: number;
}

/**
 * The signed version a decision belongs to, when it was made before the amendment now open
 * (`caseReportVersion`: signed versions so far); null for a decision of the current round.
 */
export function signedVersionOf(decision: HumanDecision, caseReportVersion: number): number | null {
  return decision.reportVersion !== undefined && decision.reportVersion < caseReportVersion ? decision.reportVersion + 1 : null;
}

/**
 * What an open amendment of signed version `caseReportVersion` has decided so far: decisions made
 * since that signature, and how many cells they relabel, i.e. whose label now differs from the
 * one signed. Not the last decision's action: a relabel then a confirmation of it is a relabel,
 * and a relabel undone is none. Null when no amendment is open.
 */
export function amendmentDecisions(cells: readonly ReviewCell[], caseReportVersion: number): { of: number; decisions: number; relabelled: number } | null {
  if (caseReportVersion === 0) return null;
  const made = cells.filter((c) => c.decision !== null && c.decision.reportVersion === caseReportVersion);
  const relabelled = made.filter((c) => {
    const signed = signedLabelOf(c, caseReportVersion);
    return signed !== null && signed !== c.currentLabel;
  });
  return { of: caseReportVersion, decisions: made.length, relabelled: relabelled.length };
}

/** The label a cell carried when `caseReportVersion` was signed; null for a cell decided only since (an image added). */
export function signedLabelOf(cell: Pick<ReviewCell, "roundLabels">, caseReportVersion: number): string | null {
  const rounds = Object.keys(cell.roundLabels ?? {}).map(Number).filter((v) => v < caseReportVersion);
  return rounds.length === 0 ? null : cell.roundLabels![Math.max(...rounds)]!;
}

export interface ReviewCell {
  id: string;
  slideId: string;
  cropSha256: string;
  box: { x: number; y: number; width: number; height: number };
  ai: AiPrediction | null;
  /** Latest human decision, if any (possibly one of a signed version, see signedVersionOf). */
  decision: HumanDecision | null;
  /**
   * The label of each round's last decision, by the report version it was made under (0: before
   * the first sign-off): what each signed version carried. Plain data (it crosses from the server
   * page to the client); absent for a cell never decided.
   */
  roundLabels?: Readonly<Record<number, string>>;
  /** Label now in force: the decision's, else the AI's. */
  currentLabel: string;
  /**
   * The label the API holds for the cell (null: no AI call and no decision yet). A decision for
   * this label is a confirmation; for any other, a reclassification. It can differ from
   * currentLabel: a cell with no label is shown as "unidentified".
   */
  storedLabel?: string | null;
  /** Reviews so far (optimistic concurrency: the next review carries reviewCount + 1). */
  reviewCount: number;
  /**
   * The version of the retraction that withdrew this cell's decision (Cell.withdrawnInVersion): in
   * an amendment after a retraction, a cell that retraction signed, still counted and not decided
   * since. The API refuses to sign a result while any is left; null or absent otherwise.
   */
  withdrawnInVersion?: number | null;
}

export interface PendingOverride {
  cellIds: string[];
  label: string;
}

export interface ReviewState {
  labels: string[];
  cells: ReviewCell[];
  cursor: string | null;
  gradcam: boolean;
  /** The selected cell's history panel is shown (HISTORY_KEY; fetched only while shown). */
  history: boolean;
  /** Overriding the AI needs a reason: the prompt is open while this is set. */
  prompt: PendingOverride | null;
  /** Cells with a request in flight. */
  saving: ReadonlySet<string>;
  /**
   * Cells whose last decision failed to save, until one saves or the case is reloaded (dismissing
   * the message does not clear them): sign-off waits, since in an amendment every cell is decided
   * already and the old label would be signed.
   */
  unsaved: ReadonlySet<string>;
  error: string | null;
  /** The cell a single failed decision was for (the error offers to go back to it). */
  errorCellId: string | null;
  /**
   * The last single decision that failed to save, with its label and typed reason, so that
   * "Retry" sends it again rather than asking for the reason twice. Kept across a reload of the
   * case (a conflict is answered by reloading, then retrying), until it saves or is discarded;
   * retried only while its cell is as it was (failedDecision).
   */
  failedRequest: FailedRequest | null;
  /** Cells decided in this session, latest last (Backspace goes back to them to undo a slip). */
  recent: string[];
  /** Login of the signed-in reviewer (null: unknown, no decision counts as theirs). */
  me: string | null;
  /**
   * Signed versions of the case so far: the reportVersion that decisions of the round now open
   * carry (0 before the first sign-off, n in the amendment of version n).
   */
  round: number;
  /** The API's review policy (bulkMinConfidence): what "next low-confidence cell" looks for. */
  minConfidence: number;
}

/** How far Backspace can walk back. */
const MAX_RECENT = 50;

export const UNLABELLED = "unidentified";

/** The label a cell shows in the gallery before any human decision. */
export function aiShownLabel(ai: AiPrediction | null): string {
  if (!ai) return UNLABELLED;
  return ai.abstained ? UNLABELLED : ai.label;
}

export function initialState(
  labels: string[],
  cells: ReviewCell[],
  { me = null, round = 0, minConfidence = 0 }: { me?: string | null; round?: number; minConfidence?: number } = {},
): ReviewState {
  const s: ReviewState = {
    labels,
    cells,
    cursor: null,
    gradcam: false,
    history: false,
    prompt: null,
    saving: new Set(),
    unsaved: new Set(),
    error: null,
    errorCellId: null,
    failedRequest: null,
    recent: [],
    me,
    round,
    minConfidence,
  };
  return { ...s, cursor: orderedCells(s)[0]?.id ?? null };
}

export function isReviewed(cell: ReviewCell): boolean {
  return cell.decision !== null;
}

/**
 * Whether the cell's decision was withdrawn by a retraction and still stands in the way of a
 * result (ReviewCell.withdrawnInVersion): it is decided again, or its image voided.
 */
export function isWithdrawn(cell: Pick<ReviewCell, "withdrawnInVersion">): boolean {
  return cell.withdrawnInVersion !== undefined && cell.withdrawnInVersion !== null;
}

/**
 * A cell the reviewer still has to act on: not reviewed, or withdrawn by a retraction (its old
 * decision counts for nothing in a result). What "next unreviewed" looks for.
 */
export function needsDecision(cell: ReviewCell): boolean {
  return !isReviewed(cell) || isWithdrawn(cell);
}

/** The cells withdrawn by a retraction still counted, and that retraction's version (null: none). */
export function withdrawnCells(cells: readonly ReviewCell[]): { cells: number; version: number } | null {
  let n = 0;
  let version = 0;
  for (const c of cells) {
    if (!isWithdrawn(c)) continue;
    n++;
    version = Math.max(version, c.withdrawnInVersion!);
  }
  return n === 0 ? null : { cells: n, version };
}

/** What the current-cell panel says of a withdrawn cell's decision, in place of "it stands unless you change it". */
export function withdrawnDecisionText(version: number): string {
  return `withdrawn by the retraction signed as version ${version}: decide it again if that retraction was wrong, or void its image`;
}

/** "3 cells withdrawn by the retraction still counted": beside the sign-off button and in the progress. */
export function withdrawnCountText(w: { cells: number; version: number }): string {
  return `${w.cells} cell${w.cells === 1 ? "" : "s"} withdrawn by the retraction (version ${w.version}) still counted`;
}

/**
 * Why the sign-off dialog cannot sign yet, or null: the web side of the API's sign-off rules, in
 * the order the reviewer can act on them. Cells withdrawn by a retraction block a result only: the
 * API refuses it while any is counted and undecided since (decide it again, or void its image); a
 * retraction signs no result and is not held up by them.
 */
export function signOffBlocked(s: {
  total: number;
  amendment: unknown;
  saving: boolean;
  unreviewed: number;
  unsavedDecisions: number;
  withdrawn: { cells: number; version: number } | null;
  retracting: boolean;
}): string | null {
  // No cell: an amendment can still close, by retracting (the only meaning then offered).
  if (s.total === 0 && s.amendment === null) {
    return "There are no cells to sign off. A first report cannot be retracted (none was issued): upload this patient's images, or leave the case unsigned.";
  }
  // Saving first: the last cell's decision in flight still counts as unreviewed.
  if (s.saving) return "Decisions are still being saved.";
  if (s.unreviewed > 0) return `${s.unreviewed} of ${s.total} cells are not reviewed yet. Every cell needs a human decision before sign-off.`;
  if (s.unsavedDecisions > 0) {
    const n = s.unsavedDecisions;
    return `${n} decision${n === 1 ? " was" : "s were"} not saved. Decide ${n === 1 ? "that cell" : "those cells"} again, or reload the case, before signing.`;
  }
  if (s.withdrawn && !s.retracting) {
    const { cells: n, version } = s.withdrawn;
    const [cells, are, each, images] = n === 1 ? ["cell", "is", "it", "its image"] : ["cells", "are", "each", "their images"];
    return (
      `Signing a result is blocked: ${n} ${cells} withdrawn by the retraction signed as version ${version} ${are} still counted, with no decision since. ` +
      `Decide ${each} again if that retraction was wrong, or void ${images}.`
    );
  }
  return null;
}

/**
 * Whether `label` is already this cell's decision by the signed-in reviewer in the round now open:
 * deciding it again would only add a duplicate review row and audit event. A decision by another
 * reviewer, or one of a signed version (which an amendment re-decides), is not.
 */
export function decidedAlready(state: Pick<ReviewState, "me" | "round">, cell: ReviewCell, label: string): boolean {
  const d = cell.decision;
  return d !== null && state.me !== null && d.label === label && d.reviewerLogin === state.me && d.reportVersion === state.round;
}

/** Does choosing `label` for this cell override what the AI said (so a reason is required)? */
export function overridesAi(cell: ReviewCell, label: string): boolean {
  // No prediction: nothing to override. An abstention reads as "unidentified".
  return cell.ai !== null && aiShownLabel(cell.ai) !== label;
}

export interface Group {
  label: string;
  cells: ReviewCell[];
}

/**
 * Gallery groups: one per label in the model's order (then any other label seen), cells
 * inside least-certain first so the reviewer's attention goes where the model is weakest.
 */
export function groupCells(labels: readonly string[], cells: readonly ReviewCell[]): Group[] {
  const byLabel = new Map<string, ReviewCell[]>();
  for (const label of labels) byLabel.set(label, []);
  for (const cell of cells) {
    let list = byLabel.get(cell.currentLabel);
    if (!list) {
      list = [];
      byLabel.set(cell.currentLabel, list);
    }
    list.push(cell);
  }
  const groups: Group[] = [];
  for (const [label, list] of byLabel) {
    if (!list.length) continue;
    list.sort((a, b) => (a.ai?.confidence ?? -1) - (b.ai?.confidence ?? -1) || a.id.localeCompare(b.id));
    groups.push({ label, cells: list });
  }
  return groups;
}

export function orderedCells(state: Pick<ReviewState, "labels" | "cells">): ReviewCell[] {
  return groupCells(state.labels, state.cells).flatMap((g) => g.cells);
}

export interface DifferentialRow {
  label: string;
  count: number;
  /** Percentage of counted cells (excluded labels have none). */
  percent: number | null;
}

/**
 * Differential count over the labels in force, one row per label in the page's order: white
 * cells with their share, what is not a white cell (artifacts, platelets, nucleated red cells,
 * unidentified) with its count and no share, as a lab reports a manual differential. `summary`
 * holds the CAR-T figures the signed report gives (lib/differential.ts, the API's rule).
 */
export function differential(labels: readonly string[], cells: readonly ReviewCell[], cartAssessed: boolean): {
  rows: DifferentialRow[];
  counted: number;
  total: number;
  summary: WhiteCellDifferential;
} {
  const counts = new Map<string, number>(labels.map((l) => [l, 0]));
  for (const c of cells) counts.set(c.currentLabel, (counts.get(c.currentLabel) ?? 0) + 1);
  const summary = whiteCellDifferential([...counts].map(([label, count]) => ({ label, count })), cartAssessed);
  const percentOf = new Map(summary.rows.map((r) => [r.label, r.percent]));
  // Blast only where a cell has one: no model screens for it, so "0 blasts" would be a finding
  // nobody made (the signed report lists it the same way).
  const rows = [...counts]
    .filter(([label, count]) => label !== BLAST || count > 0)
    .map(([label, count]) => ({ label, count, percent: percentOf.get(label) ?? null }));
  return { rows, counted: summary.counted, total: cells.length, summary };
}

/**
 * The rows of the live differential that the signature records, for the sign-off dialog (what
 * the signer sees is what they sign): every label with cells, and at 0 only the classes the API
 * lists at 0 (`screenedClasses`, Differential.screenedClasses: those the models that classified
 * this case's cells can call). The page's own rows hold every registered model's class at 0; a
 * "CAR-T cell 0" the signed report leaves out would be shown as signed. Counts stay the page's
 * (they include decisions saved since the case was loaded).
 */
export function signedRows(rows: readonly DifferentialRow[], screenedClasses: readonly string[]): DifferentialRow[] {
  const screened = new Set(screenedClasses);
  const signed = rows.filter((r) => r.count > 0 || screened.has(r.label));
  // A class the API lists that the page has no row for (not expected: the page's labels cover
  // every registered model's classes) is signed at 0 all the same.
  const missing = screenedClasses.filter((l) => !rows.some((r) => r.label === l));
  // At 0% only where white cells were counted: with none, no share was measured (null, as signed).
  const measured = rows.some((r) => r.percent !== null && !NOT_WHITE_CELLS.includes(r.label.toLowerCase()));
  return [...signed, ...missing.map((label) => ({ label, count: 0, percent: NOT_WHITE_CELLS.includes(label.toLowerCase()) || !measured ? null : 0 }))];
}

/**
 * The differential the review page shows live, and the sign-off dialog too: its rows are those the
 * signature records (signedRows), never a class at 0 that no model of this case screens for. The
 * page's labels hold every registered model's classes: untrimmed, a case classified by a model
 * without a CAR-T class would list "CAR-T 0.0%" over "CAR-T cells not assessed".
 */
export function reviewDifferential(
  labels: readonly string[],
  cells: readonly ReviewCell[],
  { cartAssessed, screenedClasses }: { cartAssessed: boolean; screenedClasses: readonly string[] },
): ReturnType<typeof differential> {
  const d = differential(labels, cells, cartAssessed);
  return { ...d, rows: signedRows(d.rows, screenedClasses) };
}

/** Review progress, and how many decided cells differ from the AI (shown at sign-off). */
export function progress(cells: readonly ReviewCell[]): { reviewed: number; total: number; overrides: number } {
  let reviewed = 0;
  let overrides = 0;
  for (const c of cells) {
    if (!isReviewed(c)) continue;
    reviewed++;
    if (overridesAi(c, c.currentLabel)) overrides++;
  }
  return { reviewed, total: cells.length, overrides };
}

export type Action =
  | { type: "move"; delta: number }
  | { type: "select"; cellId: string }
  /** On from `from` after a decision (or one already made): next unreviewed cell, else the next one. */
  | { type: "advance"; from: string }
  | { type: "back" }
  | { type: "toggleGradcam" }
  | { type: "toggleHistory" }
  /** A reclassify (or confirm) request from a key or a button; opens the reason prompt when needed. */
  | { type: "choose"; cellIds: string[]; label: string }
  | { type: "cancelPrompt" }
  | { type: "saving"; cellIds: string[] }
  | { type: "saved"; cellId: string; decision: HumanDecision; reviewCount: number }
  /** `request`: what failed to save, kept for "Retry" when it was a single decision. */
  | { type: "failed"; cellIds: string[]; message: string; request?: SaveRequest }
  | { type: "dismissError" }
  /** The reviewer gives up the failed decision ("Discard"): the cell keeps its saved label. */
  | { type: "discardFailed" }
  | { type: "replaceCells"; cells: ReviewCell[] };

/** A request to save, produced by the reducer's caller when a choice needs no reason. */
export interface SaveRequest {
  cellIds: string[];
  label: string;
  reason: string | null;
  /** The cell as the reviewer decided on it (single decisions; set when first sent). */
  basedOn?: DecisionBasis;
}

/**
 * What a single decision was made against: the cell's review count (sent as the expected one) and
 * the label it then showed. A retry goes out against this, not the cell as a reload shows it: a
 * CONFLICT that caught another reviewer's decision must not be answered by overwriting it.
 */
export interface DecisionBasis {
  reviewCount: number;
  label: string;
}

export type FailedRequest = SaveRequest & { basedOn: DecisionBasis };

export function basisOf(cell: Pick<ReviewCell, "reviewCount" | "currentLabel">): DecisionBasis {
  return { reviewCount: cell.reviewCount, label: cell.currentLabel };
}

/**
 * The cell to send a single decision for: its review count is the one the decision was based on,
 * so that if the cell was decided since, the API refuses (CONFLICT) instead of recording a retry
 * over a colleague's decision (or, for the AI's label, a reason-less confirmation reverting it).
 */
export function cellToSend(cell: ReviewCell, req: SaveRequest): ReviewCell {
  return req.basedOn ? { ...cell, reviewCount: req.basedOn.reviewCount } : cell;
}

/**
 * What the page offers for the decision that failed: Retry while its cell is as it was when the
 * decision was made; once the cell's decision moved on (another reviewer's, seen after a reload),
 * only going to the cell to decide again, or discarding, with the label it has now.
 */
export function failedDecision(
  state: Pick<ReviewState, "failedRequest" | "cells">,
):
  | { request: FailedRequest; cellId: string; retry: true }
  | { request: FailedRequest; cellId: string; retry: false; now: string; why: "decided" | "relabelled" }
  | null {
  const request = state.failedRequest;
  if (!request) return null;
  const cellId = request.cellIds[0]!;
  const cell = state.cells.find((c) => c.id === cellId);
  if (!cell) return null;
  if (cell.reviewCount !== request.basedOn.reviewCount) return { request, cellId, retry: false, now: cell.currentLabel, why: "decided" };
  // Undecided still, but the AI's label moved (a new champion predicted the cell again): the
  // decision was made against a label the cell no longer shows, so it is made again, not resent.
  if (cell.currentLabel !== request.basedOn.label) return { request, cellId, retry: false, now: cell.currentLabel, why: "relabelled" };
  return { request, cellId, retry: true };
}

/** How many of `before` are gone from `now`, or show another label or review count there. */
export function changedSince(before: readonly Pick<ReviewCell, "id" | "currentLabel" | "reviewCount">[], now: readonly ReviewCell[]): number {
  const byId = new Map(now.map((c) => [c.id, c]));
  return before.filter((c) => {
    const n = byId.get(c.id);
    return !n || n.currentLabel !== c.currentLabel || n.reviewCount !== c.reviewCount;
  }).length;
}

export function reduce(state: ReviewState, action: Action): ReviewState {
  switch (action.type) {
    case "move": {
      const order = orderedCells(state);
      if (!order.length) return state;
      const i = order.findIndex((c) => c.id === state.cursor);
      const next = Math.min(order.length - 1, Math.max(0, (i < 0 ? 0 : i) + action.delta));
      return { ...state, cursor: order[next]!.id };
    }
    case "select":
      return state.cells.some((c) => c.id === action.cellId) ? { ...state, cursor: action.cellId } : state;
    case "advance": {
      const next = nextCursor(state, action.from, state.saving);
      return next === null ? state : { ...state, cursor: next };
    }
    case "back": {
      // The latest decided cell other than the one on screen: a mistaken decision is one key away
      // (the cursor had already moved on), and deciding it again corrects it as a new review.
      const i = state.recent.findLastIndex((id) => id !== state.cursor);
      return i < 0 ? state : { ...state, cursor: state.recent[i]!, recent: state.recent.slice(0, i) };
    }
    case "toggleGradcam":
      return { ...state, gradcam: !state.gradcam };
    case "toggleHistory":
      return { ...state, history: !state.history };
    case "choose":
      return { ...state, prompt: { cellIds: action.cellIds, label: action.label } };
    case "cancelPrompt":
      return { ...state, prompt: null };
    case "saving": {
      const saving = new Set(state.saving);
      for (const id of action.cellIds) saving.add(id);
      // An earlier failure stays on screen until dismissed or answered: the next keystroke must
      // not wipe the only notice that a decision was lost.
      return { ...state, saving, prompt: null };
    }
    case "saved": {
      const saving = new Set(state.saving);
      saving.delete(action.cellId);
      const answered = state.errorCellId === action.cellId;
      const unsaved = new Set(state.unsaved);
      unsaved.delete(action.cellId);
      const retried = state.failedRequest?.cellIds.includes(action.cellId) ?? false;
      return {
        ...state,
        saving,
        unsaved,
        ...(answered ? { error: null, errorCellId: null } : {}),
        ...(retried ? { failedRequest: null } : {}),
        recent: [...state.recent.filter((id) => id !== action.cellId), action.cellId].slice(-MAX_RECENT),
        cells: state.cells.map((c) =>
          // A decision recorded now is one since any retraction: the cell no longer stands withdrawn.
          c.id === action.cellId
            ? { ...c, decision: action.decision, currentLabel: action.decision.label, storedLabel: action.decision.label, reviewCount: action.reviewCount, withdrawnInVersion: null }
            : c,
        ),
      };
    }
    case "failed": {
      const saving = new Set(state.saving);
      for (const id of action.cellIds) saving.delete(id);
      // The cursor stays where the reviewer is looking (moving it back would hand their next
      // keystroke to another cell); the error names the cell and offers to go back to it.
      const single = action.request && action.request.cellIds.length === 1 ? action.request : null;
      const cell = single ? state.cells.find((c) => c.id === single.cellIds[0]) : undefined;
      return {
        ...state,
        saving,
        unsaved: new Set([...state.unsaved, ...action.cellIds]),
        error: action.message,
        errorCellId: action.cellIds.length === 1 ? action.cellIds[0]! : null,
        // A bulk confirm is one click to repeat; a single decision may carry a typed reason.
        failedRequest: single && cell ? { ...single, basedOn: single.basedOn ?? basisOf(cell) } : state.failedRequest,
      };
    }
    case "dismissError":
      return { ...state, error: null, errorCellId: null };
    case "discardFailed": {
      if (!state.failedRequest) return state;
      const unsaved = new Set(state.unsaved);
      for (const id of state.failedRequest.cellIds) unsaved.delete(id);
      return { ...state, failedRequest: null, unsaved };
    }
    case "replaceCells": {
      const cursor = action.cells.some((c) => c.id === state.cursor) ? state.cursor : (orderedCells({ ...state, cells: action.cells })[0]?.id ?? null);
      // Fresh data from the server answers whatever conflict the message was about. A failed
      // decision still holds up sign-off and leaving, unless its cell is gone; it is offered for
      // retry only if the reload shows its cell undecided since (failedDecision).
      const failedRequest = state.failedRequest && action.cells.some((c) => state.failedRequest!.cellIds.includes(c.id)) ? state.failedRequest : null;
      return { ...state, cells: action.cells, cursor, unsaved: new Set(failedRequest?.cellIds ?? []), error: null, errorCellId: null, failedRequest };
    }
  }
}

/** The next unreviewed cell after `fromId` in gallery order (wrapping), for "confirm and advance". */
export function nextUnreviewed(state: Pick<ReviewState, "labels" | "cells">, fromId: string | null, skip: ReadonlySet<string> = new Set()): string | null {
  const order = orderedCells(state);
  const start = Math.max(0, order.findIndex((c) => c.id === fromId));
  for (let k = 1; k <= order.length; k++) {
    const c = order[(start + k) % order.length]!;
    if (!isReviewed(c) && !skip.has(c.id) && c.id !== fromId) return c.id;
  }
  return null;
}

/**
 * Where the cursor goes after a decision on `fromId`: the next unreviewed cell, else (every cell
 * decided, as throughout an amendment) the next cell in gallery order, so that Enter walks on
 * instead of deciding the same cell again. Null at the last cell.
 */
export function nextCursor(state: Pick<ReviewState, "labels" | "cells">, fromId: string, skip: ReadonlySet<string> = new Set()): string | null {
  const unreviewed = nextUnreviewed(state, fromId, skip);
  if (unreviewed !== null) return unreviewed;
  const order = orderedCells(state);
  const i = order.findIndex((c) => c.id === fromId);
  return i >= 0 && i + 1 < order.length ? order[i + 1]!.id : null;
}

/**
 * The next cell after `fromId` in gallery order (wrapping) that `wanted` accepts, preferring one
 * not yet reviewed: the "next unreviewed" and "next low-confidence" keys.
 */
export function nextMatching(state: Pick<ReviewState, "labels" | "cells">, fromId: string | null, wanted: (c: ReviewCell) => boolean): string | null {
  const order = orderedCells(state);
  const start = order.findIndex((c) => c.id === fromId);
  const after = [...order.slice(start + 1), ...order.slice(0, start + 1)].filter((c) => c.id !== fromId && wanted(c));
  return (after.find((c) => !isReviewed(c)) ?? after[0])?.id ?? null;
}

/** Keys that jump to a cell needing attention (letters, clear of the label keys 0-9, - and b). */
export const JUMP_KEYS = { nextUnreviewed: "u", nextLowConfidence: "l" } as const;

export type JumpKind = keyof typeof JUMP_KEYS;

/**
 * Where a jump goes from the cursor, for its key and its button alike; null when no other cell
 * qualifies. "Next unreviewed" takes the cells withdrawn by a retraction too (needsDecision), after
 * the undecided ones: they need a decision as much.
 */
export function jumpTarget(state: Pick<ReviewState, "labels" | "cells" | "cursor" | "minConfidence">, kind: JumpKind): string | null {
  return kind === "nextUnreviewed"
    ? nextMatching(state, state.cursor, (c) => needsDecision(c))
    : nextMatching(state, state.cursor, (c) => isLowConfidence(c, state.minConfidence));
}

/** Shows or hides the selected cell's history (a letter clear of the label and jump keys). */
export const HISTORY_KEY = "h";

export type KeyIntent =
  | { kind: "dispatch"; action: Action }
  /** Save now (no reason needed) */
  | { kind: "save"; request: SaveRequest }
  | { kind: "none" };

/** The number key of the label at `index` in the label list (the first nine have one), else null. */

/**
 * Keyboard map. 1-9, 0, -, b: reclassify the current cell (labelKey: fixed keys); arrows: move;
 * Backspace: back to the last decided cell; Enter: confirm the current label; g: toggle Grad-CAM;
 * h: show/hide the cell's history; u / l: next unreviewed / next low-confidence cell. Choosing a
 * label other than the AI's opens the reason prompt instead of saving (an override of the AI is
 * never silent); choosing what the reviewer already decided this round saves nothing and moves on.
 */
export function keyIntent(state: ReviewState, key: string, modifiers: { ctrl?: boolean; alt?: boolean; meta?: boolean } = {}): KeyIntent {
  if (modifiers.ctrl || modifiers.alt || modifiers.meta || state.prompt) return { kind: "none" };
  const cell = state.cells.find((c) => c.id === state.cursor) ?? null;
  if (key === "ArrowRight" || key === "ArrowDown") return { kind: "dispatch", action: { type: "move", delta: 1 } };
  if (key === "ArrowLeft" || key === "ArrowUp") return { kind: "dispatch", action: { type: "move", delta: -1 } };
  if (key === "g" || key === "G") return { kind: "dispatch", action: { type: "toggleGradcam" } };
  if (key.toLowerCase() === HISTORY_KEY) return { kind: "dispatch", action: { type: "toggleHistory" } };
  if (key === "Backspace") return { kind: "dispatch", action: { type: "back" } };
  const jumpKey = (Object.keys(JUMP_KEYS) as JumpKind[]).find((k) => JUMP_KEYS[k] === key.toLowerCase());
  if (jumpKey !== undefined) {
    const jump = jumpTarget(state, jumpKey);
    return jump === null ? { kind: "none" } : { kind: "dispatch", action: { type: "select", cellId: jump } };
  }
  if (!cell || state.saving.has(cell.id)) return { kind: "none" };
  if (key === "Enter") return decide(state, cell, cell.currentLabel);
  // Letter keys either case (Caps Lock on), like the jump keys.
  const label = state.labels.find((l) => labelKey(l) === (key.length === 1 ? key.toLowerCase() : key));
  if (label !== undefined) return decide(state, cell, label);
  return { kind: "none" };
}

/** Whether an intent only looks (moves the cursor, toggles Grad-CAM or the history): all a read-only case allows. */
export function viewingOnly(intent: KeyIntent): boolean {
  return (
    intent.kind === "dispatch" &&
    (intent.action.type === "move" || intent.action.type === "select" || intent.action.type === "toggleGradcam" || intent.action.type === "toggleHistory")
  );
}

/** A label chosen with the mouse or a touch screen: the same rules as its number key. */
export function chooseIntent(state: ReviewState, label: string): KeyIntent {
  const cell = state.cells.find((c) => c.id === state.cursor) ?? null;
  if (state.prompt || !cell || state.saving.has(cell.id) || !state.labels.includes(label)) return { kind: "none" };
  return decide(state, cell, label);
}

/** Whether a decision for `label` opens the reason prompt (the API refuses it without one). */
export function needsReason(cell: ReviewCell, label: string): boolean {
  // Leaving a cell unidentified takes it out of the white-cell count: always with a reason, an
  // AI abstention confirmed included.
  if (isUnidentified(label)) return true;
  // Confirming or choosing a label that overrides the AI needs a reason, unless a human
  // already made that same override (the reason is on record with that decision).
  const alreadyDecided = cell.decision !== null && cell.decision.label === label;
  return overridesAi(cell, label) && !alreadyDecided;
}

function decide(state: ReviewState, cell: ReviewCell, label: string): KeyIntent {
  // Already this reviewer's decision in this round: a second save would only duplicate it (and,
  // in an amendment, where every cell counts as reviewed, Enter would never leave the cell).
  if (decidedAlready(state, cell, label)) return { kind: "dispatch", action: { type: "advance", from: cell.id } };
  if (needsReason(cell, label)) return { kind: "dispatch", action: { type: "choose", cellIds: [cell.id], label } };
  return { kind: "save", request: { cellIds: [cell.id], label, reason: null } };
}

// `minConfidence` below is the API's review policy (Query.reviewPolicy.bulkMinConfidence): the AI
// confidence under which a cell is flagged for a careful look and left out of bulk confirm. The
// API refuses such cells in a multi-cell confirm, so the page and the server cannot disagree.

/** The API's rules for confirming several cells at once (Query.reviewPolicy). */
export interface BulkPolicy {
  /** bulkMinConfidence: AI calls under it are flagged and left out of bulk confirm. */
  minConfidence: number;
  /**
   * bulkExcludedLabels: labels never confirmed in bulk, however confident the AI (CAR-T, the class
   * the report's count rests on): each such call is confirmed by looking at that cell.
   */
  excludedLabels: readonly string[];
}

/** Whether a label is one the API never confirms in bulk (BulkPolicy.excludedLabels). */
export function isBulkExcluded(label: string, policy: Pick<BulkPolicy, "excludedLabels">): boolean {
  return policy.excludedLabels.includes(label);
}

/**
 * An AI confidence as a whole percent, rounded down as the gallery tiles write it (0.856 → "85%"),
 * so a flagged 79.6% never reads as 80%, and a figure quoted elsewhere (the bulk-confirm question)
 * matches its tile. A product like 0.29 × 100 = 28.999… is the number 29 to the precision it was
 * stored with, not 28.
 */
export function aiPercentText(confidence: number): string {
  return `${Math.floor(Number((confidence * 100).toPrecision(12)))}%`;
}

/**
 * The question bulk confirm asks first: how many cells, as what, and the least certain AI call among
 * them, written as its tile writes it (aiPercentText).
 */
export function bulkConfirmQuestion(chosen: readonly ReviewCell[]): { title: string; message: string; confirm: string } {
  const lowest = Math.min(...chosen.map((c) => c.ai?.confidence ?? 1));
  const n = chosen.length;
  return {
    title: `Confirm ${n} cell${n === 1 ? "" : "s"} as ${labelName(chosen[0]?.currentLabel ?? UNLABELLED)}?`,
    message: `Each is recorded as your decision that the AI's label is right. The least certain of them has AI confidence ${aiPercentText(lowest)}.`,
    confirm: `Confirm ${n}`,
  };
}

/** Why a group of such a label has no bulk action: "CAR-T cell calls are confirmed one by one". */
export function bulkExcludedText(label: string): string {
  return `${labelName(label)} calls are confirmed one by one`;
}

/**
 * The bulk-confirm button's tooltip: what bulkConfirmable (and the API's confirmCells) take. A
 * model replaced as champion by a promotion keeps its calls confirmable in bulk (they were trusted
 * when made); only a model a rollback withdrew has its calls decided one by one.
 */
export function bulkConfirmTitle(minConfidence: number): string {
  return (
    `Confirm the unreviewed cells of this group whose label is a confident call (at least ${thresholdPercent(minConfidence)}) of the model that suggested it, ` +
    "the champion or an earlier model a promotion replaced; cells under that confidence, abstentions, cells without an AI call, " +
    "calls of a model a rollback withdrew and CAR-T calls are left to decide one by one"
  );
}

/** An AI call under minConfidence (an abstention is already shown as "unidentified"). */
export function isLowConfidence(cell: ReviewCell, minConfidence: number): boolean {
  return cell.ai !== null && !cell.ai.abstained && cell.ai.confidence < minConfidence;
}

/** A confident AI call: not abstained and at least minConfidence. */
function hasConfidentCall(cell: ReviewCell, minConfidence: number): boolean {
  return cell.ai !== null && !cell.ai.abstained && cell.ai.confidence >= minConfidence;
}

/**
 * Bulk confirm: every unreviewed cell of a group whose label agrees with a confident AI call of
 * a model no rollback withdrew, and is not one of the labels confirmed one by one (the API's
 * confirmCells rule); low-confidence, abstained and unpredicted cells, a withdrawn model's
 * suggestions and CAR-T calls are left to be decided one by one.
 */
export function bulkConfirmable(group: Group, policy: BulkPolicy, saving: ReadonlySet<string> = new Set()): string[] {
  // Cells still saving are left out: confirmed again, the server would refuse them as changed
  // "by another reviewer" once the first save lands.
  return group.cells
    .filter(
      (c) =>
        !isReviewed(c) &&
        !saving.has(c.id) &&
        !isBulkExcluded(c.currentLabel, policy) &&
        !overridesAi(c, c.currentLabel) &&
        hasConfidentCall(c, policy.minConfidence) &&
        c.ai?.withdrawn === false,
    )
    .map((c) => c.id);
}

/** What a gallery group's heading says, so that "nothing to confirm in bulk" never reads as "done". */
export function groupSummary(group: Group, policy: BulkPolicy, saving: ReadonlySet<string> = new Set()): {
  total: number;
  unreviewed: number;
  /** Unreviewed cells among them flagged as low-confidence AI calls. */
  lowConfidence: number;
  /** The cells bulk confirm takes (bulkConfirmable). */
  confirmable: string[];
  /** Unreviewed cells left out of bulk confirm for their label alone (CAR-T calls: one by one). */
  excluded: number;
} {
  const open = group.cells.filter((c) => !isReviewed(c));
  return {
    total: group.cells.length,
    unreviewed: open.length,
    lowConfidence: open.filter((c) => isLowConfidence(c, policy.minConfidence)).length,
    confirmable: bulkConfirmable(group, policy, saving),
    excluded: open.filter((c) => isBulkExcluded(c.currentLabel, policy)).length,
  };
}

/**
 * "40; 5 unreviewed, 3 of them low-confidence", or "40; all reviewed"; `withdrawn` (cells of the
 * group withdrawn by a retraction, still to decide again or void) is added: "40; all reviewed, 3
 * withdrawn by the retraction".
 */
export function groupCountText(s: Pick<ReturnType<typeof groupSummary>, "total" | "unreviewed" | "lowConfidence"> & { withdrawn?: number }): string {
  const withdrawn = s.withdrawn ? `, ${s.withdrawn} withdrawn by the retraction` : "";
  if (s.unreviewed === 0) return `${s.total}; all reviewed${withdrawn}`;
  return `${s.total}; ${s.unreviewed} unreviewed${s.lowConfidence ? `, ${s.lowConfidence} of them low-confidence` : ""}${withdrawn}`;
}

/**
 * The models whose calls are the AI suggestions on screen (each cell's newest prediction), with
 * how many cells each suggested, whether it is still the champion, and whether a rollback withdrew
 * it: an open case keeps the withdrawn model's calls, and the reviewer must know.
 */
export function suggestionModels(cells: readonly ReviewCell[]): { name: string; champion: boolean; withdrawn: boolean; cells: number }[] {
  const byName = new Map<string, { name: string; champion: boolean; withdrawn: boolean; cells: number }>();
  for (const c of cells) {
    if (!c.ai) continue;
    const m = byName.get(c.ai.modelVersion) ?? { name: c.ai.modelVersion, champion: c.ai.fromChampion === true, withdrawn: c.ai.withdrawn !== false, cells: 0 };
    m.cells++;
    byName.set(c.ai.modelVersion, m);
  }
  return [...byName.values()].sort((a, b) => b.cells - a.cells || a.name.localeCompare(b.name));
}

/** The cell's place on screen: a reclassified cell moves to another group and is followed there. */
export function viewKey(cell: Pick<ReviewCell, "id" | "currentLabel">): string {
  return `${cell.id}\u0000${cell.currentLabel}`;
}

/**
 * What the signer's page shows, sent with the signature: the API refuses it (CONFLICT) when the
 * case has other cells or decisions by then, so no one signs a change they have not seen.
 */
export function seenState(cells: readonly ReviewCell[]): { seenCells: number; seenDecisions: number } {
  return { seenCells: cells.length, seenDecisions: cells.reduce((n, c) => n + c.reviewCount, 0) };
}

/**
 * The meanings that fit what is about to be signed (the API's rule, meaningsFor) and the one to
 * sign with: the reviewer's choice while it still fits, else the first that fits. Recomputed as
 * the case changes under an open dialog (a correction's save landing after it opened), so a
 * corrected case is never signed as plain approval by a default chosen too early.
 */
export function signingMeaning(
  summary: { amendment: unknown; overrides: number; total?: number },
  chosen: string | null,
): { meaning: string; fitting: string[] } {
  // No cell (every image voided): an amendment can only retract; a first report fits nothing ("").
  const fitting = meaningsFor({ amendment: summary.amendment !== null, corrected: summary.overrides > 0, empty: summary.total === 0 });
  return { meaning: chosen !== null && (fitting as string[]).includes(chosen) ? chosen : (fitting[0] ?? ""), fitting };
}
