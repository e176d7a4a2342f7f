"use client";
import { useCallback, useMemo, useRef, useState } from "react";
import { Empty, ErrorBox, formatDateTime, Loading } from "@/components/ui";
import { type AuditEventRow, AUDIT_TRAIL, VERIFY_AUDIT } from "@/lib/operations";
import { ApiError, describeError } from "@/lib/errors";
import { DownloadCancelled, downloadFrom, formatBytes } from "@/lib/download";
import { useAction } from "@/lib/useAction";
import { gql } from "@/lib/gql";
import { useLoader, useQuery } from "@/lib/useQuery";
import { utcFromInput } from "@/lib/format";
import { type AnchorRecency, anchorRecency, anchorRecencyFails } from "./anchorRecency";
import { csvRowCounter } from "./csvRows";
import { type DiffEntry, diffEntries } from "./diff";
import { reasonText } from "./reason";


interface Verify {
  verifyAuditTrail: {
    ok: boolean;
    checked: number;
    firstBrokenSeq: string | null;
    problem: string | null;
    full: boolean;
    fullyVerifiedThrough: string | null;
    fullyVerifiedAt: string | null;
    externalAnchorsChecked: number;
    anchorRecency: AnchorRecency;
  };
}

/** The verdict, and which events this check re-hashed (a quick one resumes from the last full walk). */
function chainVerdict(v: Verify["verifyAuditTrail"]): string {
  // No broken link: the chain held, but the anchor file or its recency failed the verdict.
  if (!v.ok && v.firstBrokenSeq === null) return `Audit trail NOT verified${v.problem ? ` — ${v.problem}` : ""}`;
  if (!v.ok) return `Hash chain BROKEN at event ${v.firstBrokenSeq ?? "?"}${v.problem ? ` — ${v.problem}` : ""}`;
  // A full walk asked for within minutes of the last one answers that one's verdict (the API
  // does not re-hash the whole trail on every click): its time says which.
  const walked = v.fullyVerifiedAt && `events 1–${v.fullyVerifiedThrough} re-hashed at ${formatDateTime(v.fullyVerifiedAt)}`;
  const scope = !walked ? "every event re-hashed just now" : v.full ? walked : `${walked}, newer ones just now`;
  return `Hash chain verified: ${v.checked} events intact (${scope})`;
}

/**
 * Shown beside the verdict, 0 included: without anchors outside the database (a new install
 * before the worker's first copy), a rewrite by the tables' owner would pass the check above.
 */
function anchorsChecked(n: number): string {
  return `${n} ${n === 1 ? "anchor" : "anchors"} outside the database checked`;
}

const PAGE = 200;

/** How often the export's progress is shown anew: not on every chunk, which would redraw the whole table each time. */
const PROGRESS_EVERY_MS = 250;

/** What the export has received: null until the server starts answering. */
type ExportProgress = { bytes: number; rows: number } | null;

function exportProgressText(p: ExportProgress): string {
  if (!p) return "Waiting for the server (it verifies the hash chain first)…";
  return `${formatBytes(p.bytes)} received, ${p.rows.toLocaleString("en-US")} ${p.rows === 1 ? "row" : "rows"} so far`;
}

type TrailPage = { auditTrail: { nodes: AuditEventRow[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } };

const FIELDS = [
  // A case's whole history: its own events and those of its slides and cells.
  { key: "caseAccession", label: "Case accession" },
  // The entity's history: its own events and those that name it among the entities they acted on
  // (a re-prediction's cells and model, a promotion's model versions); the API decides which.
  { key: "entityId", label: "Entity id" },
  { key: "entityType", label: "Entity type" },
  { key: "actorLogin", label: "User (login)" },
  { key: "action", label: "Action" },
  // Read as UTC, like every time shown here and in the export; "to" is exclusive.
  { key: "from", label: "From (UTC)", type: "datetime-local" },
  { key: "to", label: "Before (UTC)", type: "datetime-local" },
] as const;


/** The key exports are signed with, as the API publishes it (its public half). */
interface ExportKey {
  fingerprint: string;
  recordedSeq: string | number | null;
}

async function loadExportKey(): Promise<ExportKey> {
  const res = await fetch("/api/audit/export-key", { credentials: "same-origin", cache: "no-store" });
  const body = (await res.json().catch(() => null)) as (Partial<ExportKey> & { errors?: { message?: string }[] }) | null;
  if (!res.ok || typeof body?.fingerprint !== "string") {
    throw new ApiError("INTERNAL", body?.errors?.[0]?.message ?? "The key that signs exports could not be read: exports are refused until it can (the API's log says why).");
  }
  return { fingerprint: body.fingerprint, recordedSeq: body.recordedSeq ?? null };
}
export function AuditTrail() {
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [applied, setApplied] = useState<Record<string, string>>({});
  const { filter, badDates } = useMemo(() => {
    const f: Record<string, string> = {};
    const bad: string[] = [];
    for (const [k, v] of Object.entries(applied)) {
      if (!v.trim()) continue;
      if (k === "from" || k === "to") {
        const utc = utcFromInput(v);
        // A time that does not parse is said so: dropping it would show the whole trail as filtered.
        if (utc) f[k] = utc;
        else bad.push(k === "from" ? "From" : "Before");
      } else f[k] = v.trim();
    }
    return { filter: f, badDates: bad };
  }, [applied]);
  const trail = useQuery<TrailPage>(AUDIT_TRAIL, { filter, first: PAGE }, { skip: badDates.length > 0 });
  const exportKey = useLoader(loadExportKey);
  // The page's own check is the quick one; the button asks for a walk of the whole chain.
  const fullNext = useRef(false);
  const verify = useLoader(
    useCallback(async () => {
      const full = fullNext.current;
      fullNext.current = false;
      return gql<Verify>(VERIFY_AUDIT, { full });
    }, []),
  );
  const v = verify.data?.verifyAuditTrail;
  const recency = v && anchorRecency(v.anchorRecency);
  const csvHref = `/api/audit.csv?${new URLSearchParams(filter).toString()}`;
  // Older pages, fetched on demand after the first; a new first page (other filters) drops them.
  const [older, setOlder] = useState<{ of: TrailPage; pages: TrailPage[] }>({ of: {} as TrailPage, pages: [] });
  const [loadingOlder, setLoadingOlder] = useState(false);
  // The export: one at a time, its failure said on the page (nothing to reload after it). Its
  // progress is shown while it runs, and it can be cancelled (a stalled one ends on its own).
  const exportCsv = useAction(async () => undefined);
  const [exportProgress, setExportProgress] = useState<ExportProgress>(null);
  const exportAbort = useRef<AbortController | null>(null);
  const runExport = () =>
    exportCsv.act(
      async () => {
        setExported(null);
        setExportProgress(null);
        const abort = new AbortController();
        exportAbort.current = abort;
        const rows = csvRowCounter();
        let shownAt = 0;
        try {
          const headers = await downloadFrom(csvHref, "audit-trail.csv", {
            signal: abort.signal,
            what: "export",
            onProgress: ({ received, chunk }) => {
              rows.add(chunk);
              const now = Date.now();
              if (received > 0 && now - shownAt < PROGRESS_EVERY_MS) return;
              shownAt = now;
              setExportProgress({ bytes: received, rows: rows.rows });
            },
          });
          if (headers) setExported({ chain: headers.get("x-audit-chain"), redacted: headers.get("x-audit-redacted") });
          return null;
        } catch (e) {
          // Asked for: said as what happened, not as a failure.
          if (e instanceof DownloadCancelled) return e.message;
          throw e;
        } finally {
          exportAbort.current = null;
          setExportProgress(null);
        }
      },
      (said) => said,
      // Limited by the download itself (its start and stall limits, and Cancel), not by the page's.
      { timeoutMs: null },
    );
  // What the last export's headers said: the chain's verdict when it was made, what was blanked.
  const [exported, setExported] = useState<{ chain: string | null; redacted: string | null } | null>(null);
  const [olderError, setOlderError] = useState<string | null>(null);
  const pages = trail.data && !badDates.length ? [trail.data, ...(older.of === trail.data ? older.pages : [])] : [];
  const rows = pages.flatMap((p) => p.auditTrail.nodes);
  const last = pages.at(-1)?.auditTrail.pageInfo;
  const loadOlder = async () => {
    if (!trail.data || !last?.endCursor) return;
    setLoadingOlder(true);
    try {
      const page = await gql<TrailPage>(AUDIT_TRAIL, { filter, first: PAGE, after: last.endCursor });
      const base = trail.data;
      setOlder((o) => ({ of: base, pages: [...(o.of === base ? o.pages : []), page] }));
      setOlderError(null);
    } catch (e) {
      setOlderError(describeError(e));
    } finally {
      setLoadingOlder(false);
    }
  };

  return (
    <div>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <h1>Audit trail</h1>
        <div className="row">
          {!v && !verify.error ? (
            <span className="badge">verifying chain…</span>
          ) : v ? (
            <span className={`badge ${v.ok ? "ok" : "bad"}`} data-testid="chain-status" data-valid={v.ok ? "true" : "false"} role="status">
              {chainVerdict(v)}
            </span>
          ) : null}
          {v && (
            <span className="muted" data-testid="chain-anchors" data-count={v.externalAnchorsChecked}>
              {anchorsChecked(v.externalAnchorsChecked)}
            </span>
          )}
          {v && (
            <span
              className={anchorRecencyFails(v.anchorRecency) ? "badge bad" : "muted"}
              data-testid="chain-anchor-recency"
              data-checked={v.anchorRecency.checked ? "true" : "false"}
              data-overdue={v.anchorRecency.overdue ? "true" : "false"}
              data-stopped-cleanly={v.anchorRecency.stoppedCleanly ? "true" : "false"}
              data-written-in-future={v.anchorRecency.writtenInFuture ? "true" : "false"}
              data-interval-too-long={v.anchorRecency.intervalTooLong ? "true" : "false"}
            >
              {recency?.summary}
            </span>
          )}
          <button
            type="button"
            // The last verdict goes while the new one is computed: a failed re-check must not
            // leave "verified" standing beside its error.
            onClick={() => {
              verify.setData(null);
              fullNext.current = true;
              void verify.reload();
            }}
            data-testid="verify-chain"
            title="Re-hash every event of the trail, not only those written since the last full check"
          >
            Verify every event
          </button>
          {badDates.length === 0 && (
            <button type="button" disabled={exportCsv.busy} data-testid="audit-csv" onClick={() => void runExport()}>
              {exportCsv.busy ? "Exporting…" : "Export CSV"}
            </button>
          )}
          {exportCsv.busy && (
            <>
              {/* Not a live region: read out on every update it would drown the page. */}
              <span className="muted" data-testid="audit-csv-progress" data-bytes={exportProgress?.bytes ?? ""} data-rows={exportProgress?.rows ?? ""}>
                {exportProgressText(exportProgress)}
              </span>
              <button type="button" data-testid="audit-csv-cancel" onClick={() => exportAbort.current?.abort()}>
                Cancel export
              </button>
            </>
          )}
        </div>
      </div>
      {recency?.detail && (
        <p className="muted" data-testid="chain-anchor-detail">
          {recency.detail}
        </p>
      )}
      {exportKey.data && (
        <p className="muted" data-testid="audit-export-key">
          Exports are signed with the platform's key{" "}
          <span className="mono" title={exportKey.data.fingerprint} data-testid="audit-export-key-fingerprint">
            {exportKey.data.fingerprint.slice(0, 16)}…
          </span>
          {exportKey.data.recordedSeq !== null ? ` (recorded in the trail as event #${exportKey.data.recordedSeq})` : ""}.{" "}
          <a href="/api/audit/export-key?download=1" download data-testid="audit-export-key-download">
            Download its public key
          </a>{" "}
          to check a saved export (scripts/verifyAuditCsv.ts --key).
        </p>
      )}
      <ErrorBox error={exportKey.error} testId="audit-export-key-error" />
      <ErrorBox error={exportCsv.actionError} testId="audit-csv-error" />
      {exportCsv.notice && (
        <p className="muted" role="status" data-testid="audit-csv-notice">
          {exportCsv.notice}
        </p>
      )}
      {exported && (
        <p className={exported.chain?.startsWith("intact") ? "muted" : "error"} data-testid="audit-csv-chain" role="status">
          Exported. Hash chain at export: {exported.chain ?? "not stated"}
          {exported.redacted ? `. Blanked for your role: ${exported.redacted}` : ""}. The file ends with a line
          “# rows=N complete; sha256=…; sig=…” that states the same, with a SHA-256 of the lines above it and
          the platform's signature over both, by which a saved copy can be checked; a copy without it was cut
          short.
        </p>
      )}
      <ErrorBox error={verify.error} testId="verify-error" />
      <form
        className="panel row"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(draft);
        }}
        aria-label="Filter the audit trail"
      >
        {FIELDS.map((f) => (
          <label key={f.key}>
            {f.label}
            <input
              type={"type" in f ? f.type : "text"}
              value={draft[f.key] ?? ""}
              onChange={(e) => setDraft((d) => ({ ...d, [f.key]: e.target.value }))}
              data-testid={`audit-filter-${f.key}`}
            />
          </label>
        ))}
        <button className="primary" type="submit" data-testid="audit-apply">
          Filter
        </button>
        <button
          type="button"
          onClick={() => {
            setDraft({});
            setApplied({});
          }}
        >
          Clear
        </button>
      </form>
      <ErrorBox error={badDates.length ? `${badDates.join(" and ")}: not a date and time (YYYY-MM-DD hh:mm, UTC). Nothing is shown until it is corrected.` : trail.error} />
      {/* Always present, so a screen reader announces each filter's result (WCAG 4.1.3). */}
      <p className="sr-only" role="status" data-testid="audit-result">
        {trail.data && !badDates.length ? `${rows.length}${last?.hasNextPage ? "+" : ""} event${rows.length === 1 && !last?.hasNextPage ? "" : "s"} shown, newest first` : ""}
      </p>
      {trail.loading && !trail.data ? (
        <Loading what="audit events" />
      ) : badDates.length > 0 || (trail.error && rows.length === 0) ? null : rows.length === 0 ? (
        <Empty testId="audit-empty">No audit events match these filters.</Empty>
      ) : (
        <table data-testid="audit-table">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Entity</th>
              <th>Change (before → after)</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.seq} data-testid="audit-row" data-action={r.action}>
                <td className="num mono">{r.seq}</td>
                <td>{formatDateTime(r.at)}</td>
                <td>{r.actorLogin}</td>
                <td className="mono">{r.action}</td>
                <td className="mono" title={r.entityId}>
                  {r.entityType} {r.entityId.slice(0, 8)}
                </td>
                <td>
                  <Change before={r.before} after={r.after} />
                </td>
                <td className={r.reasonWithheld ? "muted" : undefined} data-testid="audit-reason" data-withheld={r.reasonWithheld ? "true" : "false"}>
                  {reasonText(r)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorBox error={olderError} testId="audit-older-error" />
      {last?.hasNextPage && (
        <p className="row">
          <span className="muted" data-testid="audit-shown">
            Showing the newest {rows.length} events.
          </span>
          <button type="button" onClick={() => void loadOlder()} disabled={loadingOlder || trail.loading} data-testid="audit-older">
            {loadingOlder ? "Loading…" : `Load ${PAGE} older`}
          </button>
        </p>
      )}
    </div>
  );
}

/** Entries shown before the row is expanded; the expander lists them all, and the raw values. */
const CHANGE_PREVIEW = 8;

function Change({ before, after }: { before: unknown; after: unknown }) {
  const entries = diffEntries(before, after);
  if (!entries.length) return <span className="muted">—</span>;
  const line = (e: DiffEntry) =>
    e.changed ? (
      <li key={e.key}>
        {e.key}: <span style={{ color: "var(--danger)" }}>{e.before}</span> → <span style={{ color: "var(--ok)" }}>{e.after}</span>
      </li>
    ) : (
      // Unchanged, and shown: often what the event is about (the label a confirmation confirmed).
      <li key={e.key} className="muted" data-testid="audit-unchanged">
        {e.key}: {e.after} (unchanged)
      </li>
    );
  return (
    <div className="mono">
      <ul style={{ margin: 0, paddingLeft: "1rem" }}>{entries.slice(0, CHANGE_PREVIEW).map(line)}</ul>
      {(entries.length > CHANGE_PREVIEW || before != null || after != null) && (
        <details data-testid="audit-change-all">
          <summary className="muted">
            {entries.length > CHANGE_PREVIEW ? `all ${entries.length} entries, raw before/after` : "raw before/after"}
          </summary>
          {entries.length > CHANGE_PREVIEW && <ul style={{ margin: 0, paddingLeft: "1rem" }}>{entries.slice(CHANGE_PREVIEW).map(line)}</ul>}
          <div>before:</div>
          <pre style={{ whiteSpace: "pre-wrap", margin: 0 }}>{JSON.stringify(before ?? null, null, 2)}</pre>
          <div>after:</div>
          <pre style={{ whiteSpace: "pre-wrap", margin: 0 }}>{JSON.stringify(after ?? null, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}
