"use client";
import Link from "next/link";
import { useCallback, useMemo, useRef, useState } from "react";
import { Empty, ErrorBox, Loading } from "@/components/ui";
import { gql } from "@/lib/gql";
import { CASE_STATUS_COUNTS, CASES } from "@/lib/operations";
import { usePolledLoader, useQuery } from "@/lib/useQuery";
import { isSigned } from "@/lib/caseDetails";
import { CASE_STATUSES, type Connection, loadWindow, OPEN, statusFilter } from "./worklistWindow";

interface CaseRow {
  id: string;
  accession: string;
  status: string;
  priority: string;
  product: string | null;
  timepoint: string | null;
  createdAt: string;
  cellCount: number;
  reviewedCount: number;
  failedImageCount: number;
  reportVersion: number;
}

const STATUSES = CASE_STATUSES;
const PRIORITIES = ["STAT", "URGENT", "ROUTINE"] as const;
const PAGE = 50;
/** The API's largest page of cases (PAGE_LIMITS["Query.cases"].max). */
const MAX_PAGE = 200;

interface CasePage {
  cases: Connection<CaseRow>;
}

function age(iso: string, now: number): string {
  const mins = Math.max(0, Math.round((now - Date.parse(iso)) / 60000));
  if (mins < 60) return `${mins} min`;
  const h = Math.round(mins / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`;
}

export function Worklist({ canReview, canUpload, canReport }: { canReview: boolean; canUpload: boolean; canReport: boolean }) {
  // Open work by default (what is not signed): signed and amended cases never leave the list, and
  // weeks of them, STAT first, would fill the first pages above a new case waiting for review.
  // "All" is one choice away, in the same select; the empty list offers it when only signed cases match.
  const [status, setStatus] = useState<string>(OPEN);
  const [priority, setPriority] = useState<string>("");
  const [accession, setAccession] = useState("");
  const statusSelect = useRef<HTMLSelectElement>(null);
  const filter = useMemo(
    () => ({
      ...statusFilter(status),
      ...(priority ? { priority: [priority] } : {}),
      ...(accession.trim() ? { accession: accession.trim() } : {}),
    }),
    [status, priority, accession],
  );
  // More rows belong to the filter they were loaded for: a new filter starts from page one.
  const filterKey = JSON.stringify(filter);
  // The polled window grows with "Show more", and every poll reads all of it (past the API's page
  // limit as several pages, see loadWindow), so every row shown stays current: a new STAT case
  // pushes the others down, none goes missing; a case signed meanwhile says so.
  const [span, setSpan] = useState({ filterKey, rows: PAGE });
  const size = span.filterKey === filterKey ? span.rows : PAGE;
  const load = useCallback(
    ({ background }: { background: boolean }) =>
      loadWindow(size, MAX_PAGE, async (first, after) => (await gql<CasePage>(CASES, { filter, first, after }, { background })).cases),
    [filter, size],
  );
  const { data, error, loading } = usePolledLoader(load, { pollMs: 5000, poll: true, resetKey: filterKey });
  const { data: countData } = useQuery<{ caseStatusCounts: { status: string; count: number }[] }>(
    CASE_STATUS_COUNTS,
    { filter },
    { pollMs: 5000, poll: true },
  );
  const rows = data?.nodes ?? [];
  const hasNext = data?.hasNextPage ?? false;
  function loadMore() {
    setSpan({ filterKey, rows: size + PAGE });
  }
  const counts = useMemo(
    () => Object.fromEntries((countData?.caseStatusCounts ?? []).map((c) => [c.status, c.count])),
    [countData],
  );
  const now = Date.now();
  // The counts ignore the status filter: signed cases matching the other filters, for the empty list.
  const signedHidden = status === OPEN ? STATUSES.filter((s) => isSigned(s)).reduce((n, s) => n + (counts[s] ?? 0), 0) : 0;
  const narrowed = Boolean(priority || accession.trim());

  return (
    <div>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <h1>Worklist</h1>
        {canUpload && (
          <Link href="/upload" data-testid="new-case-link">
            New case / upload
          </Link>
        )}
      </div>
      <search className="panel row">
        <label>
          Accession
          <input value={accession} onChange={(e) => setAccession(e.target.value)} placeholder="prefix…" data-testid="filter-accession" />
        </label>
        <label>
          Status
          <select ref={statusSelect} value={status} onChange={(e) => setStatus(e.target.value)} data-testid="filter-status">
            <option value={OPEN}>Open (not signed)</option>
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace("_", " ")}
              </option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select value={priority} onChange={(e) => setPriority(e.target.value)} data-testid="filter-priority">
            <option value="">All</option>
            {PRIORITIES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        {/* Not before the counts have loaded: a failed count query must not read as "0 cases". */}
        {countData && (
          <section className="row" data-testid="status-counts" aria-label="Cases by status">
            {STATUSES.map((s) => (
              <span key={s} className="badge">
                {s.replace("_", " ")}: {counts[s] ?? 0}
              </span>
            ))}
          </section>
        )}
      </search>
      {/* Always present, so a screen reader announces each new result of the filters. */}
      <p className="sr-only" role="status" data-testid="worklist-result">
        {loading && !data ? "" : `${rows.length}${hasNext ? "+" : ""} case${rows.length === 1 && !hasNext ? "" : "s"} shown`}
      </p>
      <ErrorBox error={error} />
      {loading && !data ? (
        <Loading what="cases" />
      ) : rows.length === 0 ? (
        !error && (
          <Empty testId="worklist-empty">
            {status !== OPEN ? (
              "No cases match these filters."
            ) : (
              <>
                {narrowed ? "No open cases match these filters." : "No open cases."}
                {signedHidden > 0 && (
                  <>
                    {" "}
                    <button
                      type="button"
                      data-testid="worklist-show-all"
                      onClick={() => {
                        setStatus("");
                        // The button goes with the empty list: focus stays on the filter it changed.
                        statusSelect.current?.focus();
                      }}
                    >
                      Show all ({signedHidden} signed)
                    </button>
                  </>
                )}
              </>
            )}
          </Empty>
        )
      ) : (
        <table data-testid="worklist">
          <thead>
            <tr>
              <th>Accession</th>
              <th>Priority</th>
              <th>Status</th>
              <th>Product · timepoint</th>
              <th className="num">Reviewed</th>
              <th>Age</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-testid="case-row" data-accession={r.accession} data-status={r.status}>
                {/* The row's header: a screen reader names each Review/Report link by its case. */}
                <th scope="row" className="mono rowhead">
                  {r.accession}
                </th>
                <td>
                  <span className={`badge ${r.priority}`}>{r.priority}</span>
                </td>
                <td>
                  {r.status.replace("_", " ")}
                  {/* A case with failed images moves on to review like any other: its count is short. */}
                  {r.failedImageCount > 0 && (
                    <>
                      {" "}
                      <span className="badge bad" data-testid="failed-images" title="Their cells are not counted. Upload the same files again to re-analyse them.">
                        {r.failedImageCount} image{r.failedImageCount === 1 ? "" : "s"} failed
                      </span>
                    </>
                  )}
                </td>
                <td>{[r.product, r.timepoint].filter(Boolean).join(" · ") || "—"}</td>
                <td className="num">
                  {r.reviewedCount} / {r.cellCount}
                </td>
                <td>{age(r.createdAt, now)}</td>
                <td>
                  {canReview && (r.status === "IN_REVIEW" || r.status === "AMENDED" || r.status === "SIGNED_OUT") && (
                    <Link href={`/cases/${r.id}/review`} data-testid="open-review">
                      {isSigned(r.status) ? "Open" : "Review"}
                    </Link>
                  )}{" "}
                  {canReport && r.reportVersion > 0 && (
                    <Link href={`/cases/${r.id}/report`} data-testid="open-report">
                      Report
                    </Link>
                  )}
                  {canUpload && !isSigned(r.status) && (
                    <Link href={`/upload?caseId=${r.id}`} data-testid="open-upload">
                      Add images
                    </Link>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {hasNext && (
        <button type="button" onClick={loadMore} data-testid="worklist-more">
          Show {PAGE} more
        </button>
      )}
    </div>
  );
}
