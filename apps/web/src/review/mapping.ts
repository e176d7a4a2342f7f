// API shapes -> review view model. Pure, unit-tested.
import { BLAST, byCanonicalOrder } from "@/lib/labels";
import { aiShownLabel, type HumanDecision, type ReviewCell } from "./model";

export interface ApiReview {
  seq: number;
  action: "CONFIRM" | "RECLASSIFY";
  label: string;
  previousLabel: string | null;
  reason: string | null;
  /** The decision has a reason the API withholds from the reader's role (it may name a patient): reason is null, not absent. */
  reasonWithheld?: boolean;
  reportVersion: number;
  createdAt: string;
  reviewer: { login: string; displayName: string };
}

export interface ApiCell {
  id: string;
  slideId: string;
  x: number;
  y: number;
  width: number;
  height: number;
  cropSha256: string;
  currentLabel: string | null;
  reviewCount: number;
  humanDecided: boolean;
  /** The retraction that withdrew the cell's decision, while it stands in the way of a result (ReviewCell.withdrawnInVersion). */
  withdrawnInVersion?: number | null;
  prediction: {
    label: string;
    confidence: number;
    abstained: boolean;
    modelVersionId: string;
    modelVersion?: { id: string; name: string; version: string; isChampion?: boolean; withdrawn?: boolean } | null;
  } | null;
  reviews: ApiReview[];
}

/** Review-only categories a human can always choose, whatever the model's classes are. */
export const REVIEW_CATEGORIES = ["unidentified", "artifact"] as const;

export function latestDecision(reviews: readonly ApiReview[]): HumanDecision | null {
  let best: ApiReview | null = null;
  for (const r of reviews) if (!best || r.seq > best.seq) best = r;
  if (!best) return null;
  return { action: best.action, label: best.label, reviewer: best.reviewer.displayName, reviewerLogin: best.reviewer.login, reason: best.reason, reasonWithheld: best.reasonWithheld === true, at: best.createdAt, reportVersion: best.reportVersion };
}

/** "name version" of the model that made a prediction; a short id when the API did not name it. */
export function modelLabel(p: NonNullable<ApiCell["prediction"]>): string {
  return p.modelVersion ? `${p.modelVersion.name} ${p.modelVersion.version}` : `model ${p.modelVersionId.slice(0, 8)}`;
}

export function toReviewCell(c: ApiCell): ReviewCell {
  const ai = c.prediction
    ? {
        label: c.prediction.label,
        confidence: c.prediction.confidence,
        abstained: c.prediction.abstained,
        modelVersion: modelLabel(c.prediction),
        fromChampion: c.prediction.modelVersion?.isChampion === true,
        // Unsaid counts as withdrawn: the page then warns and leaves the cell out of bulk confirm.
        withdrawn: c.prediction.modelVersion?.withdrawn !== false,
      }
    : null;
  const decision = c.humanDecided ? latestDecision(c.reviews) : null;
  const roundLabels: Record<number, string> = {};
  for (const r of [...c.reviews].sort((a, b) => a.seq - b.seq)) roundLabels[r.reportVersion] = r.label;
  return {
    id: c.id,
    slideId: c.slideId,
    cropSha256: c.cropSha256,
    box: { x: c.x, y: c.y, width: c.width, height: c.height },
    ai,
    decision,
    roundLabels,
    // Before any human decision an abstention shows as "unidentified", whatever the cache says.
    currentLabel: decision?.label ?? (ai ? aiShownLabel(ai) : (c.currentLabel ?? "unidentified")),
    storedLabel: c.currentLabel,
    reviewCount: c.reviewCount,
    withdrawnInVersion: c.withdrawnInVersion ?? null,
  };
}

/**
 * The label list: every class of the registered models, blast (a class no model has, which a
 * hematologist may always record) and any label seen in the data, in the canonical order (fixed
 * keys whichever models are registered), then the review categories.
 */
export function labelList(modelLabels: readonly string[], cells: readonly ReviewCell[]): string[] {
  const categories = REVIEW_CATEGORIES as readonly string[];
  const classes = new Set([...modelLabels, BLAST]);
  for (const c of cells) {
    if (c.ai) classes.add(c.ai.label);
    classes.add(c.currentLabel);
  }
  return [...[...classes].filter((l) => !categories.includes(l)).sort(byCanonicalOrder), ...categories];
}
