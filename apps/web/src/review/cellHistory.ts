// One cell's whole record as a single timeline, newest first: every AI call (a later model's
// call does not replace an earlier one) and every human decision (reviews are append-only).
// 21 CFR 11.10(e): a changed label keeps its earlier values, who changed it, when and why, in
// view. Pure and unit-tested; CellHistory.tsx fetches and draws it.
import { formatDateTime } from "@/lib/format";
import { labelName } from "@/lib/labels";
import { WITHHELD } from "@/lib/patientRef";
import { modelLabel, type ApiReview } from "./mapping";
import { UNLABELLED } from "./model";

/** One of Cell.predictions, as CELL_HISTORY reads it. */
export interface ApiPrediction {
  id: string;
  label: string;
  confidence: number;
  abstained: boolean;
  createdAt: string;
  modelVersionId: string;
  modelVersion: { id: string; name: string; version: string; isChampion?: boolean; withdrawn?: boolean } | null;
}

export interface CellHistoryData {
  predictions: readonly ApiPrediction[];
  reviews: readonly ApiReview[];
}

/**
 * What the workspace says of a model beside its suggestions (suggestionModels): a rollback took
 * it out of service, or a promotion succeeded it.
 */
export type ModelMarker = "withdrawn" | "no longer champion";

export interface HistoryEntry {
  kind: "ai" | "human";
  /** Unique within the cell (a React key). */
  key: string;
  /** The ISO time it was recorded, and the same as the page writes times. */
  at: string;
  when: string;
  /** The line without its "AI"/"Human" badge and its time. */
  text: string;
  /** AI entries: the model's state now, when it is no longer the one trusted. */
  marker: ModelMarker | null;
  /** Human entries made in an amendment (after the first signature). */
  amendment: boolean;
}

/** An AI confidence as the current-cell panel writes it: floored, so 79.99% never reads as 80.0%. */
export function confidenceText(confidence: number): string {
  return `${(Math.floor(confidence * 1000) / 10).toFixed(1)}%`;
}

/** Unsaid counts as withdrawn, as in toReviewCell: the reader is warned rather than reassured. */
function modelMarker(p: ApiPrediction): ModelMarker | null {
  if (p.modelVersion?.withdrawn !== false) return "withdrawn";
  return p.modelVersion.isChampion === true ? null : "no longer champion";
}

function aiEntry(p: ApiPrediction): HistoryEntry {
  const marker = modelMarker(p);
  const model = `${modelLabel(p)}${marker ? ` (${marker})` : ""}`;
  const call = p.abstained
    ? `abstained → ${UNLABELLED} (best guess ${labelName(p.label)} ${confidenceText(p.confidence)})`
    : `${labelName(p.label)} ${confidenceText(p.confidence)}`;
  return { kind: "ai", key: `ai-${p.id}`, at: p.createdAt, when: formatDateTime(p.createdAt), text: `${model} · ${call}`, marker, amendment: false };
}

/**
 * Review.reportVersion counts the signatures before the decision: 0 is the first report's round,
 * n the amendment that makes version n + 1. "For": the round it was made in, not that it was signed
 * (a decision overruled before the signature, or on a case never signed, was made for v1 all the same).
 */
function reportVersionText(reportVersion: number): string {
  return reportVersion === 0 ? "for report v1" : `amendment, for report v${reportVersion + 1}`;
}

/**
 * A decision's reason as the history and the current decision give it: quoted, said to be withheld
 * where the API withholds it from the reader's role (Review.reasonWithheld: free text that may
 * name a patient), and nothing where none was given.
 */
export function reviewReasonText(r: Pick<ApiReview, "reason" | "reasonWithheld">): string | null {
  if (r.reasonWithheld) return `reason ${WITHHELD}`;
  return r.reason ? `reason ‘${r.reason}’` : null;
}

function humanEntry(r: ApiReview): HistoryEntry {
  const who = r.reviewer.displayName;
  const what =
    r.action === "CONFIRM"
      ? `Confirmed as ${labelName(r.label)} by ${who}`
      : r.previousLabel === null
        ? // A cell with no label yet (no AI call) is given one by a reclassification.
          `Labelled ${labelName(r.label)} by ${who}`
        : `Changed ${labelName(r.previousLabel)} → ${labelName(r.label)} by ${who}`;
  const parts = [what, reviewReasonText(r), reportVersionText(r.reportVersion)];
  return {
    kind: "human",
    key: `review-${r.seq}`,
    at: r.createdAt,
    when: formatDateTime(r.createdAt),
    text: parts.filter(Boolean).join(" · "),
    marker: null,
    amendment: r.reportVersion > 0,
  };
}

function time(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/**
 * Newest first. Decisions keep their own order, by seq (the database numbers them; their times
 * come from the API hosts' clocks), and AI calls theirs (the API's: newest first, then by id); the
 * two are merged by time, and at the same instant a decision goes above an AI call (it answers a
 * call already on screen). So two hosts' clocks a little apart can move an AI call past a
 * decision, never put two decisions out of order.
 */
export function cellHistory(data: CellHistoryData): HistoryEntry[] {
  const ai = data.predictions.map(aiEntry);
  const human = [...data.reviews].sort((a, b) => b.seq - a.seq).map(humanEntry);
  const out: HistoryEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < ai.length || j < human.length) {
    const takeHuman = i >= ai.length || (j < human.length && time(human[j]!.at) >= time(ai[i]!.at));
    out.push(takeHuman ? human[j++]! : ai[i++]!);
  }
  return out;
}

/** What the timeline lacks, said rather than left blank: an empty list reads as a failed load. */
export function historyGaps(data: CellHistoryData): string[] {
  return [data.predictions.length === 0 ? "Not analysed yet (no AI call)" : null, data.reviews.length === 0 ? "No human decision yet" : null].filter(
    (g): g is string => g !== null,
  );
}
