"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import { CaseDetails } from "@/components/CaseDetails";
import { ErrorBox } from "@/components/ui";
import { isAnalysing, isSigned } from "@/lib/caseDetails";
import { ApiError } from "@/lib/errors";
import { gql } from "@/lib/gql";
import { useAction } from "@/lib/useAction";
import { AMEND_CASE, CASE_PROGRESS, CASE_SIGNATURE, CONFIRM_CELLS, RECLASSIFY_CELL, SIGN_OFF } from "@/lib/operations";
import { useQuery } from "@/lib/useQuery";
import { analysisKey, analysisRefreshDue } from "@/review/analysisRefresh";
import { CaseImagesPanel } from "@/review/CaseImagesPanel";
import { decisionInput } from "@/review/decisionInput";
import { outcomeUnknown, SIGNATURE_UNKNOWN, signatureLandedAfterAll, type CaseSignature } from "@/review/signatureOutcome";
import type { NumberedImage } from "@/review/caseImages";
import { toReviewCell, type ApiCell } from "@/review/mapping";
import type { ReviewCell } from "@/review/model";
import { ReviewWorkspace, type CaseHeader, type ReviewApi, type ReviewSlide } from "@/review/ReviewWorkspace";

const ANALYSIS_POLL_MS = 5_000;
const SIGN_OFF_TIMEOUT_MS = 60_000;
const READ_BACK_TIMEOUT_MS = 10_000;


export function ReviewClient({
  header,
  slides,
  failedSlides,
  analysingSlides,
  voidedSlides,
  images,
  canVoid,
  canEditDetails,
  labels,
  cells,
  signer,
  reviewerLogin,
  minConfidence,
  bulkExcludedLabels,
}: {
  header: CaseHeader;
  /** The images whose cells are reviewed, numbered as in `images`. */
  slides: ReviewSlide[];
  failedSlides: number;
  /** Images whose analysis has not finished: shown without cells until it has. */
  analysingSlides: number;
  /** Images voided: with every image voided in an amendment, the workspace offers a retraction. */
  voidedSlides: number;
  /** Every image of the case, voided ones included (listed as voided), numbered (numberImages) in upload order. */
  images: NumberedImage[];
  /** The signed-in role may void an image of this case (canVoidImages). */
  canVoid: boolean;
  /** The case is being amended and this role changes its details (mayChangeBeforeSignature). */
  canEditDetails: boolean;
  labels: string[];
  cells: ReviewCell[];
  signer: string;
  reviewerLogin: string;
  minConfidence: number;
  /** Labels never confirmed in bulk (Query.reviewPolicy.bulkExcludedLabels: CAR-T). */
  bulkExcludedLabels: string[];
}) {
  const router = useRouter();
  const api = useMemo<ReviewApi>(() => {
    // Only the decision and the new review count are taken from the API's answer.
    const decided = (fresh: ApiCell) => {
      const c = toReviewCell(fresh);
      return { cellId: c.id, decision: c.decision!, reviewCount: c.reviewCount };
    };
    return {
      async review(cell, label, reason) {
        // Either names the label this page showed (expectedLabel): one the AI has changed since (a
        // new champion predicted the cell again) is refused, not confirmed or overridden unseen.
        const d = decisionInput(cell, label, reason);
        if (d.kind === "confirm") {
          const r = await gql<{ confirmCells: ApiCell[] }>(CONFIRM_CELLS, { cells: d.cells });
          return decided(r.confirmCells[0]!);
        }
        const r = await gql<{ reclassifyCell: ApiCell }>(RECLASSIFY_CELL, { input: d.input });
        return decided(r.reclassifyCell);
      },
      async confirmMany(list) {
        const r = await gql<{ confirmCells: ApiCell[] }>(CONFIRM_CELLS, {
          // The label shown (the newest AI call's, as the gallery and the dialog drew it): should the
          // stored one differ, the API refuses rather than confirm a label nobody saw.
          cells: list.map((c) => ({ cellId: c.id, expectedReviewCount: c.reviewCount, expectedLabel: c.currentLabel })),
          // A gallery group's button, even for its last cell: a bulk confirmation (API rules, and recorded so).
          asGroup: true,
        });
        return r.confirmCells.map(decided);
      },
      async signOff(meaning, login, password, seen, comment) {
        try {
          // Given up after a minute: the dialog cannot be closed while signing, so a hung connection
          // must end, in the read-back below, not hold the signer for good.
          await gql(SIGN_OFF, { input: { caseId: header.id, meaning, ...(login === null ? {} : { login }), password, ...seen, seenCaseUpdatedAt: header.updatedAt, comment } }, { timeoutMs: SIGN_OFF_TIMEOUT_MS });
        } catch (err) {
          if (!outcomeUnknown(err)) throw err;
          // The answer was lost, perhaps after the signature committed, or before a request still
          // running upstream commits it: the case is read back a few times to find out.
          // Each read bounded too: over the same stalled connection it could wait for ever.
          const read = async () => (await gql<{ case: CaseSignature | null }>(CASE_SIGNATURE, { id: header.id }, { timeoutMs: READ_BACK_TIMEOUT_MS })).case;
          if (await signatureLandedAfterAll(read, header.reportVersion, reviewerLogin)) return;
          // Not seen: it may still land. "Not completed, try again" would be a guess.
          throw new ApiError("NETWORK", SIGNATURE_UNKNOWN);
        }
      },
    };
  }, [header.id, header.updatedAt, header.reportVersion, reviewerLogin]);

  // AMENDED is a signed state (report version 2 or later), amended again like SIGNED_OUT;
  // only IN_REVIEW (which an amendment reopens a case to) is editable.
  const signed = isSigned(header.status);
  const readOnly = header.status !== "IN_REVIEW";
  // While images are analysed the case is read-only (nothing to lose by reloading): the page
  // follows the analysis instead of leaving a STAT case to look finished until someone reloads.
  // It polls the analysis as background requests (which do not keep an unattended session
  // signed in) and reloads the case when the poll says the page is out of date (analysisRefreshDue).
  const following = readOnly && analysingSlides > 0;
  const analysis = useQuery<{ caseAnalysisProgress: { caseStatus: string; slides: { status: string }[] } | null }>(
    CASE_PROGRESS,
    { caseId: header.id },
    { skip: !following, poll: true, pollMs: ANALYSIS_POLL_MS },
  );
  // Plain values, not the poll's object (a new one on every poll): the effect runs when what the
  // poll reports changes, and the ref keeps it from reloading twice for one answer.
  const polledStatus = analysis.data?.caseAnalysisProgress?.caseStatus;
  const stillAnalysing = analysis.data?.caseAnalysisProgress?.slides.filter((s) => isAnalysing(s.status)).length;
  const lastRefreshedFor = useRef<string | null>(null);
  useEffect(() => {
    if (!following || polledStatus === undefined || stillAnalysing === undefined) return;
    const polled = { caseStatus: polledStatus, analysing: stillAnalysing };
    if (!analysisRefreshDue({ caseStatus: header.status, analysing: analysingSlides }, polled, lastRefreshedFor.current)) return;
    lastRefreshedFor.current = analysisKey(polled);
    router.refresh();
  }, [following, polledStatus, stillAnalysing, header.status, analysingSlides, router]);
  return (
    <>
      <div className="row no-print" style={{ marginBottom: "0.5rem" }}>
        <Link href="/worklist">← Worklist</Link>
        {header.reportVersion > 0 && (
          <Link href={`/cases/${header.id}/report`} data-testid="report-link">
            Signed report{header.reportVersion > 1 ? `s (${header.reportVersion} versions)` : ""}
          </Link>
        )}
      </div>
      {failedSlides > 0 && (
        <p className="error" role="alert">
          {failedSlides} image{failedSlides === 1 ? "" : "s"} of this case could not be analysed and {failedSlides === 1 ? "is" : "are"} not shown.
        </p>
      )}
      {analysingSlides > 0 && (
        <p className="notice" role="status" data-testid="review-analysing">
          {analysingSlides} image{analysingSlides === 1 ? " is" : "s are"} still being analysed: {analysingSlides === 1 ? "its" : "their"} cells appear
          here when the analysis finishes{following ? " (this page checks every few seconds)" : ""}.
        </p>
      )}
      {signed && <AmendBox caseId={header.id} reportVersion={header.reportVersion} onDone={() => router.refresh()} />}
      {canEditDetails && <CaseDetails value={header} onSaved={() => router.refresh()} />}
      <CaseImagesPanel images={images} canVoid={canVoid} onVoided={() => router.refresh()} />
      <ReviewWorkspace
        header={header}
        labels={labels}
        slides={slides}
        analysingSlides={analysingSlides}
        failedSlides={failedSlides}
        voidedSlides={voidedSlides}
        cells={cells}
        api={api}
        readOnly={readOnly}
        signer={signer}
        reviewerLogin={reviewerLogin}
        minConfidence={minConfidence}
        bulkExcludedLabels={bulkExcludedLabels}
        onSigned={() => router.push(`/cases/${header.id}/report`)}
        onReload={() => router.refresh()}
      />
    </>
  );
}

function AmendBox({ caseId, reportVersion, onDone }: { caseId: string; reportVersion: number; onDone: () => void }) {
  const [reason, setReason] = useState("");
  // Started: the page reloads into the amendment, which takes a while on a large case; a second
  // press meanwhile would be refused ("not signed") in red under an amendment that succeeded.
  const [started, setStarted] = useState(false);
  const { act, busy, actionError } = useAction(async () => onDone());
  return (
    <form
      className="panel row no-print"
      data-testid="amend-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (started) return;
        void act(async () => {
          // The version shown: one signed since by someone else is refused, not reopened unread.
          await gql(AMEND_CASE, { input: { caseId, reason: reason.trim(), expectedReportVersion: reportVersion } });
          setStarted(true);
        });
      }}
    >
      <label style={{ flex: 1 }}>
        This case is signed out. To change it, start an amendment (a new report version; the signed one stays readable). Reason:
        <input value={reason} onChange={(e) => setReason(e.target.value)} required data-testid="amend-reason" />
      </label>
      <button type="submit" disabled={!reason.trim() || busy || started} data-testid="amend-submit">
        {busy || started ? "Starting…" : "Start amendment"}
      </button>
      <ErrorBox error={actionError} />
    </form>
  );
}
