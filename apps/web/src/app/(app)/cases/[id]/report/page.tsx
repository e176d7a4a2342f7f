import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ABSOLUTE_CI_NOTE, cellCount, formatDateTime, intervalText, percent, share } from "@/lib/format";
import { ApiError } from "@/lib/errors";
import { MODEL_NAME, REPORT, VERIFY_SIGN_OFF } from "@/lib/operations";
import { apiGraphQL } from "@/server/api";
import { pageQuery, requirePage } from "@/server/session";
import { PrintButton } from "./PrintButton";
import { PrintedStamp } from "./PrintedStamp";
import { amendmentInProgressLine } from "./printing";
import { isAmendmentOpen } from "@/lib/caseDetails";
import { amendmentReasonText, reportCollectedText, reportCommentText, reportPatientText, unidentifiedReasonsText, voidReasonText, WITHHELD_FIELD } from "./withheld";
import { readReportContent, type ReportContent } from "./content";
import { amendmentNotice } from "./amendmentNotice";
import { amendingNotice, commentHeading, modelsRow, noResultText, retractionBanner, supersededBadge, versionStatus, withdrawnNotice, type VersionState } from "@/lib/retraction";
import { labelName } from "@/lib/labels";
import { isPeripheralBlood, leftOutWarning, rowPercentText } from "@/lib/differential";
import { isRetraction } from "@rcmnet/api/signOffMeanings";

export const metadata: Metadata = { title: "Signed report" };

interface SignOffRow {
  id: string;
  version: number;
  signerName: string;
  signer: { login: string };
  meaning: string;
  signedAt: string;
  content: unknown;
  /** Null for roles that may not see patient references: the API withholds a hash over one. */
  contentSha256: string | null;
  amendmentReason: string | null;
  supersedes: { id: string; version: number } | null;
  /** The content fields signed with a value that the API nulled for this reader ("case.patientRef", "comment"); [] for roles that see all. */
  withheld: string[];
}

interface ReportData {
  case: {
    id: string;
    accession: string;
    status: string;
    priority: string;
    product: string | null;
    timepoint: string | null;
    reportVersion: number;
    /** When the amendment now open was started; null unless one is open (isAmendmentOpen). */
    amendmentStartedAt: string | null;
    signOffs: SignOffRow[];
  } | null;
}

export default async function ReportPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ v?: string }> }) {
  const { id } = await params;
  const { v } = await searchParams;
  const session = await requirePage("report", `/cases/${id}/report`);
  const data = await pageQuery<ReportData>(session, `/cases/${id}/report`, REPORT, { id }).catch((e) => {
    if (e instanceof ApiError && (e.code === "NOT_FOUND" || e.code === "BAD_USER_INPUT")) return { case: null } as ReportData;
    throw e;
  });
  const c = data.case;
  if (!c) notFound();
  const versions = [...c.signOffs].sort((a, b) => b.version - a.version);
  if (!versions.length) {
    return (
      <div className="empty" data-testid="report-empty">
        Case {c.accession} has not been signed out yet. <Link href="/worklist">Back to the worklist</Link>
      </div>
    );
  }
  const shown = versions.find((s) => String(s.version) === v) ?? versions[0]!;
  const latest = versions[0]!;
  const content = readReportContent(shown.content);
  // Which versions retract (read from each signed content, the meaning column as a fallback): a
  // retraction reports no result, and the versions it withdrew say so wherever they are read.
  const states: VersionState[] = versions.map((s) => ({
    version: s.version,
    retracted: readReportContent(s.content).retracted || isRetraction(s.meaning),
  }));
  const stateOf = (version: number): VersionState => states.find((x) => x.version === version) ?? { version, retracted: false };
  const retracted = stateOf(shown.version).retracted;
  const withdrawn = withdrawnNotice(shown.version, states);
  // An amendment says what it changed, against the version it supersedes (both as signed). Told by
  // what it supersedes, not by its reason: the API withholds the reason from some roles.
  const amendedVersion = shown.supersedes?.version ?? (shown.amendmentReason !== null ? shown.version - 1 : null);
  const previous = versions.find((s) => s.id === shown.supersedes?.id) ?? versions.find((s) => s.version === shown.version - 1);
  const withheld = shown.withheld;
  // Changes are listed between two results only: not on a retraction, nor against one.
  const amendment =
    amendedVersion !== null
      ? amendmentNotice({
          amended: amendedVersion,
          previous: previous ? { content: readReportContent(previous.content), retracted: stateOf(previous.version).retracted, withheld: previous.withheld } : null,
          shown: { content, retracted, withheld },
          reason: amendmentReasonText(shown.amendmentReason, withheld),
        })
      : null;
  // Excluded classes carry no percentage (/4 on); older reports counted unidentified cells in.
  const leftOut = leftOutWarning(content.rows.filter((r) => r.excluded), content.counted ?? 0);
  // Everything under the signature is read from the signed content, never from the live case
  // (which an amendment may have changed since); the columns are only a fallback.
  const signature = {
    name: content.signature.name ?? shown.signerName,
    // Printed with the name, which need not be unique ("Display Name (login)").
    login: content.signature.login ?? shown.signer.login,
    signedAt: content.signature.signedAt ?? shown.signedAt,
    meaning: content.signature.meaning ?? shown.meaning,
  };
  const verification = await pageQuery<{ verifySignOff: { ok: boolean; mismatches: string[] } }>(session, `/cases/${id}/report`, VERIFY_SIGN_OFF, {
    id: shown.id,
  });
  // Open while an image uploaded into the amendment is analysed too (ANALYZING): not signed.
  const amending = isAmendmentOpen(c.status, c.reportVersion);
  // On paper too: a printout made during an amendment must not pass for the last word.
  const amendingLine = amendmentInProgressLine(amending, c.amendmentStartedAt);
  // "not recorded" or "withheld for your role" rather than no row: the reader of a report must see
  // that none was given, or that it is not shown to them.
  const patient = reportPatientText(content, withheld);
  const comment = reportCommentText(content, withheld);
  const commentWithheld = withheld.includes(WITHHELD_FIELD.comment);
  // Signed reports (signed-report/2) name their models. Older ones signed ids only: those are
  // looked up for roles that may read the registry; others see the version ids.
  const modelNames = await Promise.all(
    content.models.map(({ id: mid, name }) =>
      name !== null
        ? name
        : apiGraphQL<{ modelVersion: { name: string; version: string } }>(MODEL_NAME, { id: mid }, session.apiToken).then(
            (r) => `${r.modelVersion.name} ${r.modelVersion.version}`,
            () => mid,
          ),
    ),
  );
  const models = modelsRow(retracted, modelNames);

  return (
    <div>
      <div className="row no-print" style={{ marginBottom: "0.75rem", justifyContent: "space-between" }}>
        <Link href="/worklist">← Worklist</Link>
        <nav aria-label="Report versions" className="row" data-testid="report-versions">
          {versions.map((s) => (
            <Link key={s.id} href={`/cases/${c.id}/report?v=${s.version}`} aria-current={s.id === shown.id ? "page" : undefined}>
              Version {s.version} ({versionStatus(stateOf(s.version), states)})
            </Link>
          ))}
        </nav>
        <div className="row">
          {/* Only a hematologist may amend (the API decides; this only saves a detour): the
              review page holds the amendment form, which asks for the reason. */}
          {session.role === "HEMATOLOGIST" && shown.id === latest.id && (
            <Link href={`/cases/${c.id}/review`} data-testid="report-amend">
              {amending ? "Continue the amendment…" : "Amend this report…"}
            </Link>
          )}
          <PrintButton />
        </div>
      </div>
      {amending && (
        <p className="notice no-print" data-testid="report-amending">
          {amendingNotice(c.reportVersion, states.find((x) => x.version === c.reportVersion))}
        </p>
      )}
      {!content.whiteCells && !retracted && (
        // Said beside the report, not in it: the signed content of an older report stays as signed.
        <p className="notice" data-testid="report-earlier-method">
          Signed before 2026-11-27 under the earlier counting method: platelets, nucleated red cells and unidentified cells were counted among the
          cells, so its percentages are not comparable with later reports. For research use only; not for diagnostic use.
        </p>
      )}
      {content.absoluteCounts && !retracted && (!isPeripheralBlood(content.case.specimen) || (content.slides?.cropsCounted ?? 0) > 0) && (
        // Reports signed as /4 before 2026-11-27 gave absolute counts whatever the specimen and images.
        <p className="notice" data-testid="report-absolute-doubtful">
          Signed before absolute counts were limited to peripheral blood counted across smear fields: this report's cells-per-µL figures
          come from {(content.slides?.cropsCounted ?? 0) > 0 ? "hand-picked crops" : `a specimen that is not peripheral blood (${content.case.specimen ?? "not recorded"})`} and
          should not be used.
        </p>
      )}
      <article className="report" data-testid="report">
        {amendingLine && (
          <p className="print-only" data-testid="report-amending-print">
            <strong>{amendingLine}</strong>
          </p>
        )}
        {/* In the article, so on paper too: a copy of a retraction or of a version it withdrew
            leaves the system, and must say what it is without the rest of the record beside it. */}
        {retracted && (
          <p className="error" role="alert" data-testid="report-retracted" style={{ fontSize: "1.1rem" }}>
            <strong>RETRACTED.</strong> {retractionBanner(shown.version, shown.supersedes?.version ?? null)}
          </p>
        )}
        {withdrawn && (
          <p className="error" role="alert" data-testid="report-withdrawn">
            <strong>{withdrawn}</strong>
          </p>
        )}
        <header>
          <h1>CAR-T cell differential — signed report{retracted ? ": RETRACTED, no valid result" : ""}</h1>
          {content.intendedUse && (
            <p className="notice" data-testid="report-intended-use">
              {content.intendedUse}
            </p>
          )}
          <table>
            <tbody>
              <tr>
                <th scope="row">Accession</th>
                <td className="mono" data-testid="report-accession">
                  {content.case.accession ?? c.accession}
                </td>
                <th scope="row">Report version</th>
                <td data-testid="report-version">
                  {shown.version}{" "}
                  {retracted && <strong className="badge bad">retraction</strong>}{" "}
                  {shown.id === latest.id ? "" : <strong className="badge bad">{supersededBadge(stateOf(latest.version))}</strong>}
                </td>
              </tr>
              <tr>
                <th scope="row">Patient ref</th>
                <td colSpan={3} className={withheld.includes(WITHHELD_FIELD.patientRef) ? "muted" : "mono"} data-testid="report-patient">
                  {patient}
                </td>
              </tr>
              <tr>
                <th scope="row">Product</th>
                <td data-testid="report-product">{content.case.product ?? "—"}</td>
                <th scope="row">Timepoint</th>
                <td data-testid="report-timepoint">{content.case.timepoint ?? "—"}</td>
              </tr>
              {content.whiteCells && (
                <tr>
                  <th scope="row">Specimen</th>
                  <td data-testid="report-specimen">
                    {content.case.specimen ?? "—"}
                    {reportCollectedText(content, withheld)}
                  </td>
                  <th scope="row">WBC count</th>
                  <td data-testid="report-wbc">{content.case.wbcCount !== null ? `${content.case.wbcCount} ×10⁹/L` : "not recorded"}</td>
                </tr>
              )}
              {models && (
                <tr>
                  <th scope="row">{models.heading}</th>
                  <td colSpan={3} data-testid="report-model-versions">
                    {models.text}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </header>
        {amendment && (
          <p className="notice" data-testid="report-amendment">
            {amendment.lead}
            {amendment.changes && <span data-testid="report-amendment-changes"> {amendment.changes}</span>}
            {amendment.uncompared && <span data-testid="report-amendment-uncompared"> {amendment.uncompared}</span>}
          </p>
        )}
        {content.slides && content.slides.failed > 0 && (
          <p className="notice" data-testid="report-failed-slides">
            {content.slides.failed} of {content.slides.total} images of this case could not be analysed and contributed no cells{retracted ? "" : " to this count"}.
          </p>
        )}
        {content.slides && content.slides.voided.length > 0 && (
          <div className="notice" data-testid="report-voided-slides">
            {content.slides.voided.length} of {content.slides.total} images of this case were voided before signing and contributed no cells{retracted ? "" : " to this count"}:
            <ul style={{ margin: "0.25rem 0 0" }}>
              {content.slides.voided.map((v, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: signed content, fixed order, no ids shown
                <li key={i}>
                  voided by {v.byLogin ?? "unknown"} at {formatDateTime(v.at)}: {voidReasonText(v.reason, withheld)}
                </li>
              ))}
            </ul>
          </div>
        )}
        {/* A retraction's cells, if it kept any, are recorded, never presented as a count. */}
        {retracted ? (
          <>
            <h2>Result</h2>
            <p className="notice" data-testid="report-no-result">
              <strong>{noResultText(content.total)}</strong>
            </p>
          </>
        ) : (
          <>
            <h2>Differential count</h2>
            <table data-testid="report-differential">
              <thead>
                <tr>
                  <th>Class</th>
                  <th className="num">Count</th>
                  <th className="num">%</th>
                </tr>
              </thead>
              <tbody>
                {content.rows.map((r) => (
                  <tr key={r.label} data-testid={`report-row-${r.label}`}>
                    <td>{labelName(r.label)}</td>
                    <td className="num">{r.count}</td>
                    {/* "—" where no white cell was counted: no share was measured, so none is printed (not 0.0%). */}
                    <td className="num">{rowPercentText(r, r.excluded)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <td>{content.whiteCells ? "Objects reviewed" : "Total cells"}</td>
                  <td className="num" data-testid="report-total">
                    {content.total ?? "—"}
                  </td>
                  <td className="num">{content.counted !== null ? `${content.counted} ${content.whiteCells ? `white cell${content.counted === 1 ? "" : "s"} counted` : "counted"}` : ""}</td>
                </tr>
              </tfoot>
            </table>
            {content.whiteCells ? (
              <WhiteCellSummary
                cartPercent={content.cartPercent}
                cartCount={content.cartCount}
                cartAssessed={content.cartAssessed}
                counted={content.counted}
                figures={content.whiteCells}
                absolute={content.absoluteCounts}
                wbcCount={content.case.wbcCount}
                fromCrops={(content.slides?.cropsCounted ?? 0) > 0}
              />
            ) : (
              content.cartPercent !== null && (
                <p>
                  <strong>CAR-T cells: {percent(content.cartPercent)}</strong> of counted cells.
                </p>
              )
            )}
          </>
        )}
        {comment !== null && (
          <section data-testid="report-comment" aria-label={commentHeading(retracted)}>
            <h2>{commentHeading(retracted)}</h2>
            {/* As signed, line breaks kept: the signer's words, not reformatted. */}
            {commentWithheld ? (
              <p className="muted" data-testid="report-comment-withheld">
                {comment}
              </p>
            ) : (
              <p style={{ whiteSpace: "pre-wrap" }}>{comment}</p>
            )}
          </section>
        )}
        {!retracted && (
          <>
            {content.corrections !== null && <p data-testid="report-corrections">AI labels changed by the reviewer: {content.corrections}</p>}
            {content.decidedBy && (
              <p data-testid="report-decided-by">
                Cells decided by: {content.decidedBy.map((d) => `${d.login} (${d.cells} cell${d.cells === 1 ? "" : "s"})`).join(", ")}
              </p>
            )}
            {content.whiteCells && content.slides && (
              <p data-testid="report-method">
                <strong>Method.</strong> Cells {content.slides.fieldsCounted ? `detected on ${content.slides.fieldsCounted} smear field image${content.slides.fieldsCounted === 1 ? "" : "s"}` : ""}
                {content.slides.fieldsCounted && content.slides.cropsCounted ? " and " : ""}
                {content.slides.cropsCounted ? `uploaded as ${content.slides.cropsCounted} single-cell crop${content.slides.cropsCounted === 1 ? "" : "s"}` : ""}; each classified by the AI
                model(s) named above, then decided by a hematologist, cell by cell or in bulk for confident AI calls; the count is of those decisions.
              </p>
            )}
            {content.groupConfirmed && content.groupConfirmed.cells > 0 && (
              <p data-testid="report-group-confirmed">
                {content.groupConfirmed.cells} of {content.total ?? "the"} cells were confirmed with a whole gallery group of confident AI calls
                {content.groupConfirmed.cart > 0 ? ` (${content.groupConfirmed.cart} of them CAR-T cells)` : ""}, the others one by one.
              </p>
            )}
            {leftOut && (
              <p className="notice" data-testid="report-left-out">
                {leftOut.count} of {leftOut.of} white cells and unidentified cells ({leftOut.percent}%) were left unidentified, out of the count: if they are not spread like the counted
                cells (damaged CAR-T cells, say), every share is biased.
              </p>
            )}
            {content.unidentifiedReasons && content.unidentifiedReasons.length > 0 && (
              <p data-testid="report-unidentified-reasons">
                Left unidentified (out of the white-cell count):{" "}
                {unidentifiedReasonsText(content.unidentifiedReasons, withheld)}.
              </p>
            )}
            {/* Crops whose analysis failed gave no cells: nothing of the count comes from them. */}
            {content.slides !== null && content.slides.cropsCounted > 0 && (
              <p className="notice" data-testid="report-crops-warning">
                Cells uploaded as crops were chosen by a person, not counted across a smear: their shares are not a differential count.
              </p>
            )}
          </>
        )}
        <section className="signature" data-testid="signature" aria-label="Electronic signature">
          <div>
            <strong>Electronically signed by</strong> <span data-testid="signature-name">{signature.name}</span>{" "}
            <span data-testid="signature-login">({signature.login})</span>
          </div>
          <div>
            <strong>Date and time</strong> <span data-testid="signature-time">{formatDateTime(signature.signedAt)}</span>
          </div>
          <div>
            <strong>Meaning</strong> <span data-testid="signature-meaning">{signature.meaning}</span>
          </div>
          <div className="muted mono" style={{ fontSize: "0.75rem", marginTop: "0.4rem" }}>
            {shown.contentSha256 !== null
              ? `Content SHA-256 ${shown.contentSha256}`
              : "Content SHA-256 withheld for your role (with the rest of the content it would let the patient reference be guessed); the server verifies it below."}
          </div>
          {verification.verifySignOff.ok ? (
            <div className="muted" style={{ fontSize: "0.8rem" }} data-testid="signature-verified">
              ✓ Verified {formatDateTime(new Date().toISOString())}: the content, its hash and the signature record agree with each other and with the hash the audit trail recorded at signing.
            </div>
          ) : (
            <div className="error" role="alert" data-testid="signature-verification-failed">
              ⚠ Verification failed: this record does not match what was signed
              {verification.verifySignOff.mismatches.length ? ` (${verification.verifySignOff.mismatches.join(", ")})` : " (content hash)"}. Tell your quality
              officer.
            </div>
          )}
        </section>
        <footer>
          <PrintedStamp name={session.name} login={session.login} renderedAt={new Date().toISOString()} />
        </footer>
      </article>
    </div>
  );
}

/** The CAR-T figures of a signed-report/4 or later, as signed: of white cells with its 95% interval, of lymphocytes. */
function WhiteCellSummary({
  cartPercent,
  cartCount,
  cartAssessed,
  counted,
  figures,
  absolute,
  wbcCount,
  fromCrops,
}: {
  cartPercent: number | null;
  cartCount: number | null;
  cartAssessed: boolean;
  counted: number | null;
  figures: NonNullable<ReportContent["whiteCells"]>;
  absolute: ReportContent["absoluteCounts"];
  wbcCount: number | null;
  /** Cells from hand-picked crops were counted: no absolute counts for that reason. */
  fromCrops: boolean;
}) {
  if (!counted) {
    return (
      <p className="notice" data-testid="report-not-evaluable">
        Not evaluable: no white cells were counted.
      </p>
    );
  }
  const ci = figures.cartPercentCi95;
  return (
    <>
      <p data-testid="report-cart">
        {cartAssessed ? (
          <>
            <strong>CAR-T cells: {share(cartPercent, cartCount ?? 0)}</strong> of white cells{intervalText(ci, percent)}
          </>
        ) : (
          <span data-testid="report-cart-not-assessed">
            <strong>CAR-T cells: not assessed.</strong> A model that classified these cells has no CAR-T class, so it would have called a CAR-T cell a
            lymphocyte{cartCount ? `; ${cartCount} cell${cartCount === 1 ? " was" : "s were"} labelled CAR-T by the reviewer` : ""}
          </span>
        )}
        {figures.cartPercentOfLymphocytes !== null ? `; ${share(figures.cartPercentOfLymphocytes, cartCount ?? 0)} of lymphocytes` : ""}.
        {figures.lymphocytePercent !== null ? ` All lymphocytes (CAR-T cells included): ${percent(figures.lymphocytePercent)} of white cells.` : ""}
        {figures.nrbcPer100Wbc ? ` Nucleated red cells: ${figures.nrbcPer100Wbc} per 100 white cells.` : ""}
      </p>
      {absolute && absolute.cartPerUl !== null && (
        <p data-testid="report-absolute">
          <strong>Absolute CAR-T count (morphology estimate): {cellCount(absolute.cartPerUl)} cells/µL</strong>
          {intervalText(absolute.cartPerUlCi95, cellCount, ABSOLUTE_CI_NOTE)} (lymphocytes{" "}
          {cellCount(absolute.lymphocytesPerUl)}/µL, from a white-cell count of {cellCount(absolute.wbcPerUl)}/µL).
        </p>
      )}
      {absolute && absolute.cartPerUl === null && (
        <p data-testid="report-absolute">
          Lymphocytes (morphology estimate): {cellCount(absolute.lymphocytesPerUl)}/µL, from a white-cell count of {cellCount(absolute.wbcPerUl)}/µL.
        </p>
      )}
      {!absolute && wbcCount !== null && (
        <p className="muted" data-testid="report-no-absolute">
          No absolute counts: {fromCrops ? "cells from hand-picked crops are not a differential count" : "they are given for peripheral blood only"}.
        </p>
      )}
      {figures.belowMinimum && (
        <p className="notice" data-testid="report-below-minimum">
          Fewer than 100 white cells were counted ({counted}): the percentages{absolute ? " and absolute counts" : ""} are imprecise.
        </p>
      )}
    </>
  );
}
