import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { isAmendmentOpen, mayChangeBeforeSignature } from "@/lib/caseDetails";
import { ApiError } from "@/lib/errors";
import { CASE_CELLS, CASE_HEADER, REVIEW_SETTINGS } from "@/lib/operations";
import { canVoidImages, numberImages, sortImages, type CaseImage } from "@/review/caseImages";
import { labelList, REVIEW_CATEGORIES, toReviewCell, type ApiCell } from "@/review/mapping";
import { patientRefText } from "@/lib/patientRef";
import { pageQuery, requirePage } from "@/server/session";
import { ReviewClient } from "./ReviewClient";
import type { CaseHeader } from "@/review/ReviewWorkspace";
import { openAmendmentOf } from "@/review/amendment";

export const metadata: Metadata = { title: "Case review" };

interface Header {
  case: (Omit<CaseHeader, "cartAssessed" | "screenedClasses" | "patientRef" | "signedComment" | "retracted" | "amendment"> & {
    /** retracted: its comment is a note on the retraction, not a morphology comment an amendment carries on. */
    currentSignOff: { version: number; comment: string | null; retracted: boolean } | null;
    /** Null when the case has none and for roles the API withholds it from. */
    patientRef: string | null;
    /** Read with the case: the sign-off dialog lists the zero rows the signature will (screenedClasses). */
    differential: { cartAssessed: boolean; screenedClasses: string[] };
    slides: CaseImage[];
    /** The amendment open, if one is: the signature of the next version certifies its reason. */
    amendmentStartedAt: string | null;
    amendmentStartedBy: { login: string; displayName: string } | null;
    /** Null for roles the API withholds it from. */
    amendmentReason: string | null;
  }) | null;
}

const PAGE = 500;

export default async function ReviewPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const session = await requirePage("review", `/cases/${id}/review`);
  const returnTo = `/cases/${id}/review`;
  type CellsPage = { case: { cells: { nodes: ApiCell[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } | null };
  const cellsPage = (after: string | null) => pageQuery<CellsPage>(session, returnTo, CASE_CELLS, { id, first: PAGE, after });
  const missing = (e: unknown) => {
    if (e instanceof ApiError && (e.code === "NOT_FOUND" || e.code === "BAD_USER_INPUT")) return null;
    throw e;
  };
  // Header, first page of cells, the label list and the review policy in parallel: the page is one round trip
  // deep for cases up to PAGE cells.
  const [header, firstPage, settings] = await Promise.all([
    pageQuery<Header>(session, returnTo, CASE_HEADER, { id }).catch(missing),
    cellsPage(null).catch(missing),
    pageQuery<{ reviewLabels: string[]; reviewPolicy: { bulkMinConfidence: number; bulkExcludedLabels: string[] } }>(session, returnTo, REVIEW_SETTINGS),
  ]);
  if (!header?.case || !firstPage?.case) notFound();

  const apiCells: ApiCell[] = [...firstPage.case.cells.nodes];
  let info = firstPage.case.cells.pageInfo;
  while (info.hasNextPage && info.endCursor) {
    const next = await cellsPage(info.endCursor);
    if (!next.case) notFound();
    apiCells.push(...next.case.cells.nodes);
    info = next.case.cells.pageInfo;
  }

  // Never a hard-coded class list: the API's label sets of the registered models.
  const { reviewLabels, reviewPolicy } = settings;
  const cells = apiCells.map((c) => toReviewCell(c));
  const labels = labelList(
    reviewLabels.filter((l) => !(REVIEW_CATEGORIES as readonly string[]).includes(l)),
    cells,
  );

  const c = header.case;
  // Numbered among all of the case's images (upload order, voided and failed ones included), once,
  // for both the Images panel and the slide selector: the same image has the same number in both.
  const numbered = numberImages(c.slides);
  // Voided images are out of the case: neither reviewed, nor counted as failed or still analysing.
  const images = sortImages(numbered);
  return (
    <ReviewClient
      header={{ id: c.id, accession: c.accession, patientRef: patientRefText(session.role, c.patientRef), status: c.status, priority: c.priority, product: c.product, timepoint: c.timepoint, specimen: c.specimen, collectedAt: c.collectedAt, wbcCount: c.wbcCount, reportVersion: c.reportVersion, updatedAt: c.updatedAt, cartAssessed: c.differential.cartAssessed, screenedClasses: c.differential.screenedClasses, signedComment: c.currentSignOff?.retracted ? null : (c.currentSignOff?.comment ?? null), retracted: c.currentSignOff?.retracted === true, amendment: openAmendmentOf(c) }}
      slides={images.counted.map((s) => ({ id: s.id, kind: s.kind, imageSha256: s.imageSha256, width: s.width, height: s.height, number: s.number, originalName: s.originalName }))}
      failedSlides={images.failed}
      analysingSlides={images.analysing}
      voidedSlides={images.voided.length}
      images={numbered}
      canVoid={canVoidImages(session.role, c.status, c.reportVersion)}
      canEditDetails={isAmendmentOpen(c.status, c.reportVersion) && mayChangeBeforeSignature(session.role, c.reportVersion)}
      labels={labels}
      cells={cells}
      signer={session.name}
      reviewerLogin={session.login}
      minConfidence={reviewPolicy.bulkMinConfidence}
      bulkExcludedLabels={reviewPolicy.bulkExcludedLabels}
    />
  );
}
