"use client";
import Link from "next/link";
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from "react";
import { ErrorBox, Loading } from "@/components/ui";
import { defaultMessage, describeError } from "@/lib/errors";
import { gql } from "@/lib/gql";
import { CASE_HEADER, CASE_PROGRESS, CREATE_CASE } from "@/lib/operations";
import { useQuery } from "@/lib/useQuery";
import { useLeaveGuard } from "@/lib/useLeaveGuard";
import { isoFromLocalInput } from "@/lib/format";
import { detailsLockedNote, isAnalysing, type CaseDetailsFields } from "@/lib/caseDetails";
import { SpecimenField } from "@/components/SpecimenField";
import { CaseDetails } from "@/components/CaseDetails";
import { ACCESSION_PATTERN, ACCESSION_RULE } from "@rcmnet/api/accession";
import type { CaseImage } from "@/review/caseImages";
import { useVoidImage } from "@/review/useVoidImage";
import { AnalysisTable, type PolledSlide } from "./AnalysisTable";
import { headerBehind } from "./headerSync";
import { analysisRows, noAnalysisNote, voidOffer } from "./imageRows";
import { trackWaiting } from "./slideStatus";
import {
  type FileStatus,
  type ImageKind,
  type UploadOutcome,
  aboutFile,
  isPending,
  limitsText,
  precheck,
  timeoutMessage,
  uploadOutcome,
  uploadSummary,
  uploadTimeoutMs,
} from "./uploadRules";

interface FileState {
  key: string;
  /** Kept, with where it goes, so that Retry sends the very same file again. */
  file: File;
  caseId: string;
  kind: ImageKind;
  sent: number;
  /** rejected: refused for what the file is (not sent again); failed: not received, worth a Retry. */
  state: FileStatus;
  message?: string;
}

interface Progress {
  caseAnalysisProgress: {
    caseStatus: string;
    slideCount: number;
    doneCount: number;
    failedCount: number;
    progress: number;
    slides: PolledSlide[];
  };
}

/**
 * XHR rather than fetch: only XHR reports upload progress. A stalled request times out rather
 * than holding the queue; cancel() stops it ("cancelled").
 */
function startUpload(
  caseId: string,
  kind: ImageKind,
  file: File,
  onProgress: (sent: number) => void,
): { result: Promise<UploadOutcome | "cancelled">; cancel: () => void } {
  const xhr = new XMLHttpRequest();
  const result = new Promise<UploadOutcome | "cancelled">((resolve) => {
    xhr.open("POST", `/api/uploads?caseId=${encodeURIComponent(caseId)}&kind=${kind}`);
    xhr.timeout = uploadTimeoutMs(file.size);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onerror = () => resolve({ ok: false, message: defaultMessage("NETWORK"), retryable: true });
    xhr.ontimeout = () => resolve({ ok: false, message: timeoutMessage(xhr.timeout), retryable: true });
    xhr.onabort = () => resolve("cancelled");
    xhr.onload = () => resolve(uploadOutcome(xhr.status, xhr.responseText));
    const form = new FormData();
    form.append("files", file, file.name);
    xhr.send(form);
  });
  return { result, cancel: () => xhr.abort() };
}

/**
 * While the page is shown, a file dragged anywhere but the drop zone is refused: dropped beside
 * it, the browser would open the image in place of the page, and the queue with it.
 */
function useRefuseStrayDrops(): void {
  useEffect(() => {
    const carriesFiles = (e: WindowEventMap["dragover"]) => e.dataTransfer?.types.includes("Files") ?? false;
    // The drop zone's own handlers ran first (React listens at its root) and prevented the default.
    const onDragOver = (e: WindowEventMap["dragover"]) => {
      if (e.defaultPrevented || !carriesFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "none"; // the pointer shows it will not drop here
    };
    const onDrop = (e: WindowEventMap["drop"]) => {
      if (!e.defaultPrevented && carriesFiles(e)) e.preventDefault();
    };
    window.addEventListener("dragover", onDragOver);
    window.addEventListener("drop", onDrop);
    return () => {
      window.removeEventListener("dragover", onDragOver);
      window.removeEventListener("drop", onDrop);
    };
  }, []);
}

export function Upload({ initialCaseId }: { initialCaseId: string | null }) {
  const [caseId, setCaseId] = useState<string | null>(initialCaseId);
  // The "Create case" button goes with its form: focus moves on to the next step, choosing images
  // (WCAG 2.4.3), instead of dropping to the page.
  const fileInput = useRef<HTMLInputElement>(null);
  const justCreated = useRef(false);
  useEffect(() => {
    if (caseId && justCreated.current) {
      justCreated.current = false;
      fileInput.current?.focus();
    }
  }, [caseId]);
  const [createError, setCreateError] = useState<string | null>(null);
  const [kind, setKind] = useState<"FIELD" | "CROP">("FIELD");
  const [files, setFiles] = useState<FileState[]>([]);
  const [over, setOver] = useState(false);
  const busy = files.some((f) => isPending(f.state));
  useLeaveGuard(busy, "Images are still being sent to this case. Leave anyway? Those not sent yet will not be uploaded.");
  useRefuseStrayDrops();

  const header = useQuery<{ case: (CaseDetailsFields & { accession: string; reportVersion: number; slides: CaseImage[] }) | null }>(CASE_HEADER, { id: caseId }, { skip: !caseId });
  // This case's header: not another case's, still shown while this one's loads.
  const thisCase = header.data?.case?.id === caseId ? header.data.case : null;
  // All of the case's images, voided ones included, in upload order: numbered as the review page
  // numbers them (numberImages), so that "#3" here is "Image 3" there.
  const caseImages = thisCase?.slides ?? [];
  // Poll every second while something is being analysed, then every 10 s (a new upload or
  // another technician's upload shows up without a reload).
  const [active, setActive] = useState(true);
  const progress = useQuery<Progress>(CASE_PROGRESS, { caseId }, { skip: !caseId, poll: true, pollMs: active || busy ? 1000 : 10_000 });
  const pd = progress.data?.caseAnalysisProgress;
  const analysing = !pd || pd.caseStatus === "ANALYZING" || pd.slides.some((s) => isAnalysing(s.status));
  useEffect(() => setActive(analysing), [analysing]);
  // The worker moves the case on (and its updatedAt) after the upload's own reload of the header:
  // the header follows the polls, so that the details editor's save is checked against the case
  // as it is now, not refused as someone else's change. Once per poll, in the background (not
  // use of the session), and with any form being filled in left as typed.
  const headerReloadedFor = useRef<unknown>(null);
  const headerCase = header.data?.case;
  const reloadHeader = header.reload;
  useEffect(() => {
    // Not for another case's answers, still shown while this one's load (a case just started).
    if (!pd || !headerCase || headerCase.id !== caseId || headerReloadedFor.current === pd || !headerBehind(headerCase, pd)) return;
    headerReloadedFor.current = pd;
    void reloadHeader({ background: true });
  }, [pd, headerCase, caseId, reloadHeader]);
  // How long each image has waited for an analyser, as far as this page has seen: the clock moves
  // on with the polls.
  const [waitingSince, setWaitingSince] = useState<Record<string, number>>({});
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!pd) return;
    const at = Date.now();
    setNow(at);
    setWaitingSince((prev) => trackWaiting(prev, pd.slides, at));
  }, [pd]);

  // A double-click on Create must not send the accession twice (the second answer: "already exists").
  const [creating, setCreating] = useState(false);
  const creatingNow = useRef(false); // set at once: a double-click's second event precedes the re-render
  async function createCase(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (creatingNow.current) return;
    creatingNow.current = true;
    const f = new FormData(e.currentTarget);
    setCreateError(null);
    setCreating(true);
    try {
      const input = {
        accession: String(f.get("accession") ?? "").trim(),
        patientRef: String(f.get("patientRef") ?? "").trim(),
        product: String(f.get("product") ?? "").trim() || null,
        timepoint: String(f.get("timepoint") ?? "").trim() || null,
        priority: String(f.get("priority") ?? "ROUTINE"),
        specimen: String(f.get("specimen") ?? "").trim() || null,
        // Typed in local time, as on the tube; sent (and shown everywhere else) in UTC.
        collectedAt: String(f.get("collectedAt") ?? "").trim() ? (isoFromLocalInput(String(f.get("collectedAt"))) ?? "unreadable") : null,
        wbcCount: String(f.get("wbcCount") ?? "").trim() ? Number(f.get("wbcCount")) : null,
      };
      const r = await gql<{ createCase: { id: string } }>(CREATE_CASE, { input });
      justCreated.current = true;
      setCaseId(r.createCase.id);
      window.history.replaceState(null, "", `/upload?caseId=${r.createCase.id}`);
    } catch (err) {
      setCreateError(describeError(err));
    } finally {
      creatingNow.current = false;
      setCreating(false);
    }
  }

  // One upload at a time, as the API takes them per user: files dropped while others are being
  // sent wait their turn (listed as queued at once) instead of being refused.
  const sendQueue = useRef<Promise<void>>(Promise.resolve());
  // Each file's place in the queue: a cancelled file loses it, and a retried one gets a new one,
  // so that its old place, when reached, sends nothing.
  const places = useRef(new Map<string, object>());
  const inFlight = useRef<{ key: string; cancel: () => void } | null>(null);
  // Left (the technician confirmed it): what is still queued is not sent.
  const left = useRef(false);
  useEffect(() => {
    left.current = false;
    return () => {
      left.current = true;
      inFlight.current?.cancel();
    };
  }, []);

  function update(key: string, patch: Partial<FileState>) {
    setFiles((prev) => prev.map((p) => (p.key === key ? { ...p, ...patch } : p)));
  }

  function send(list: File[]) {
    if (!caseId || !list.length) return;
    const stamp = Date.now();
    const items: FileState[] = list.map((file, i) => {
      const refusal = precheck(file, kind);
      return { key: `${stamp}-${i}-${file.name}`, file, caseId, kind, sent: 0, state: refusal ? "rejected" : "queued", message: refusal ?? undefined };
    });
    setFiles((prev) => [...items, ...prev]);
    for (const item of items) if (item.state === "queued") enqueue(item);
  }

  function enqueue(item: FileState) {
    const place = {};
    places.current.set(item.key, place);
    // A failure of one file must not stop the ones queued behind it.
    sendQueue.current = sendQueue.current.then(() => sendOne(item, place)).catch(() => undefined);
  }

  async function sendOne(item: FileState, place: object) {
    if (left.current || places.current.get(item.key) !== place) return;
    places.current.delete(item.key);
    update(item.key, { state: "uploading", sent: 0 });
    const upload = startUpload(item.caseId, item.kind, item.file, (sent) => update(item.key, { sent }));
    inFlight.current = { key: item.key, cancel: upload.cancel };
    const r = await upload.result;
    inFlight.current = null;
    if (left.current) return;
    if (r === "cancelled") update(item.key, { state: "cancelled", sent: 0, message: "Cancelled while sending: if it had arrived already, the case has it, and Retry answers that it was uploaded before." });
    else update(item.key, { state: r.ok ? "done" : r.retryable ? "failed" : "rejected", message: r.message, sent: r.ok ? item.file.size : 0 });
    void header.reload();
    void progress.reload();
  }

  function cancel(item: FileState) {
    // Being sent: stopped, and marked by its upload's answer; the queue goes on to the next file.
    if (inFlight.current?.key === item.key) return inFlight.current.cancel();
    places.current.delete(item.key);
    update(item.key, { state: "cancelled", message: "Cancelled before sending." });
  }

  function retry(item: FileState) {
    update(item.key, { state: "queued", sent: 0, message: undefined });
    enqueue(item);
  }

  function onDrop(e: DragEvent<HTMLDivElement>) {
    e.preventDefault();
    setOver(false);
    send([...e.dataTransfer.files]);
  }

  const p = progress.data?.caseAnalysisProgress;
  const rows = p ? analysisRows(caseImages, p.slides) : [];
  const voidedCount = caseImages.filter((s) => s.voidedAt !== null).length;
  // One list of the case's images: "Void image" on the analysis table's own rows, so that the
  // image voided is the one whose number, name and analysis the technician is looking at (an image
  // uploaded into the wrong case need not wait for a hematologist).
  const offer = voidOffer(rows, thisCase);
  const { voidButton, feedback: voidFeedback } = useVoidImage({
    onVoided: () => {
      void header.reload();
      void progress.reload();
    },
    onRefused: () => void header.reload(),
  });
  return (
    <div>
      <h1>Upload</h1>
      {!caseId ? (
        <form className="panel" onSubmit={createCase} aria-label="Create case" data-testid="create-case-form">
          <h2 style={{ marginTop: 0 }}>New case</h2>
          <p className="muted">
            Use the pseudonymous accession and patient study ids; patient details stay in the hospital record. The patient id links a patient&apos;s
            smears over time (day +7, +14, …) and keeps them in one part when labels are snapshotted for retraining.
          </p>
          <div className="row">
            <label>
              Accession
              <input name="accession" required pattern={ACCESSION_PATTERN} title={ACCESSION_RULE} data-testid="case-accession-input" />
            </label>
            <label>
              Patient study id
              <input name="patientRef" required maxLength={100} placeholder="e.g. CART-017" data-testid="case-patient-input" />
            </label>
            <label>
              CAR-T product
              <input name="product" maxLength={100} placeholder="e.g. tisagenlecleucel" data-testid="case-product-input" />
            </label>
            <label>
              Timepoint
              <input name="timepoint" maxLength={50} placeholder="e.g. day +7" data-testid="case-timepoint-input" />
            </label>
            <SpecimenField testId="case-specimen-input" />
            <label>
              Collected (your local time)
              <input name="collectedAt" type="datetime-local" data-testid="case-collected-input" />
            </label>
            <label>
              WBC count (×10⁹/L)
              <input name="wbcCount" type="number" step="any" min="0.01" max="1000" placeholder="from the analyser" data-testid="case-wbc-input" />
            </label>
            <label>
              Priority
              <select name="priority" defaultValue="ROUTINE" data-testid="case-priority-input">
                <option>ROUTINE</option>
                <option>URGENT</option>
                <option>STAT</option>
              </select>
            </label>
            <button className="primary" type="submit" disabled={creating} data-testid="create-case-submit">
              Create case
            </button>
          </div>
          <ErrorBox error={createError} testId="create-case-error" />
        </form>
      ) : (
        <>
          <div className="panel">
            <div className="row" style={{ justifyContent: "space-between" }}>
              <div>
                Case <strong className="mono" data-testid="upload-case-accession">{header.data?.case?.accession ?? "…"}</strong>{" "}
                <span className="badge" data-testid="upload-case-status">
                  {pd?.caseStatus ?? header.data?.case?.status ?? ""}
                </span>
              </div>
              {busy ? (
                // Uploads still going to this case would carry on out of sight, their refusals
                // shown nowhere: the next case waits until this one's list is settled.
                <span className="muted" data-testid="start-another-wait">
                  Start another case once these uploads have finished
                </span>
              ) : (
                <Link
                  href="/upload"
                  data-testid="start-another"
                  onClick={() => {
                    // The next case starts with an empty list: the last case's files are not its.
                    setCaseId(null);
                    setFiles([]);
                    setCreateError(null);
                  }}
                >
                  Start another case
                </Link>
              )}
            </div>
            {header.data?.case && (
              // This page is the technician's: a case being amended is a hematologist's to change.
              <CaseDetails value={header.data.case} onSaved={() => void header.reload()} lockedNote={detailsLockedNote("TECHNICIAN", header.data.case.status, header.data.case.reportVersion)} />
            )}
            <ErrorBox error={header.error} />
          </div>
          <div className="panel">
            <div className="row" role="radiogroup" aria-label="What the images are">
              <label style={{ flexDirection: "row", alignItems: "center" }}>
                <input type="radio" name="kind" checked={kind === "FIELD"} onChange={() => setKind("FIELD")} data-testid="kind-field" /> Smear fields (cells are detected)
              </label>
              <label style={{ flexDirection: "row", alignItems: "center" }}>
                <input type="radio" name="kind" checked={kind === "CROP"} onChange={() => setKind("CROP")} data-testid="kind-crop" /> Single-cell crops
              </label>
            </div>
            {/* Drop target for mice; the file input inside is the keyboard and screen-reader path. */}
            {/* biome-ignore lint/a11y/noStaticElementInteractions: the file input inside is the accessible control */}
            <div
              className={`dropzone${over ? " over" : ""}`}
              onDragOver={(e) => {
                e.preventDefault();
                setOver(true);
              }}
              onDragLeave={() => setOver(false)}
              onDrop={onDrop}
              data-testid="dropzone"
            >
              <p>Drop JPEG or PNG images here, or choose them</p>
              <p className="muted" data-testid="upload-limits">
                {limitsText()}
              </p>
              <label style={{ alignItems: "center" }}>
                <span className="sr-only">Choose images</span>
                <input
                  type="file"
                  multiple
                  accept="image/png,image/jpeg"
                  data-testid="file-input"
                  ref={fileInput}
                  onChange={(e) => {
                    send([...(e.target.files ?? [])]);
                    e.target.value = "";
                  }}
                />
              </label>
            </div>
            {/* One polite summary, rather than an alert per refused file that would cut each other off. */}
            <p className="muted" role="status" aria-live="polite" data-testid="upload-summary">
              {uploadSummary(files.map((f) => f.state))}
            </p>
            {files.length > 0 && (
              <ul style={{ listStyle: "none", padding: 0 }} data-testid="upload-list">
                {files.map((f) => (
                  <UploadRow key={f.key} item={f} onCancel={() => cancel(f)} onRetry={() => retry(f)} />
                ))}
              </ul>
            )}
          </div>
          <div className="panel" data-testid="analysis-panel">
            <h2 style={{ marginTop: 0 }}>Analysis</h2>
            <ErrorBox error={progress.error} />
            {!p ? (
              progress.loading && <Loading what="the analysis" />
            ) : (
              <>
                {p.slideCount === 0 ? (
                  <p className="muted" data-testid="analysis-empty">
                    {noAnalysisNote(voidedCount)}
                  </p>
                ) : (
                  <>
                    <div data-testid="analysis-summary">
                      {p.doneCount} of {p.slideCount} images analysed{p.failedCount ? `, ${p.failedCount} failed` : ""}
                      {voidedCount ? ` (${voidedCount} voided, not counted)` : ""} · case {p.caseStatus.replace("_", " ")}
                    </div>
                    <progress max={1} value={p.progress} aria-label="Analysis progress" data-testid="analysis-progress" />
                  </>
                )}
                {offer.lockedNote && (
                  <p className="muted" data-testid="void-locked">
                    {offer.lockedNote}
                  </p>
                )}
                {rows.length > 0 && <AnalysisTable rows={rows} voidTargets={offer.targets} voidButton={voidButton} waitingSince={waitingSince} now={now} />}
              </>
            )}
            {voidFeedback}
            {analysing && p && p.slideCount > 0 && <p className="muted">Refreshing every second while the worker analyses.</p>}
          </div>
        </>
      )}
    </div>
  );
}

const BADGE: Partial<Record<FileStatus, string>> = { done: "badge ok", rejected: "badge bad", failed: "badge bad" };

function UploadRow({ item, onCancel, onRetry }: { item: FileState; onCancel: () => void; onRetry: () => void }) {
  const { name, size } = item.file;
  const canRetry = item.state === "failed" || item.state === "cancelled";
  const hasButton = isPending(item.state) || canRetry;
  // The button goes once the file is done or refused: focus on it moves to its row, not to the page (WCAG 2.4.3).
  const row = useRef<HTMLLIElement>(null);
  const buttonFocused = useRef(false);
  useEffect(() => {
    if (hasButton || !buttonFocused.current) return;
    buttonFocused.current = false;
    // Only focus that was dropped to the page: not focus the user has since put elsewhere.
    const active = document.activeElement;
    if (active && active !== document.body) return;
    row.current?.focus();
  }, [hasButton]);
  return (
    <li ref={row} tabIndex={-1} data-testid="upload-item" data-state={item.state} style={{ margin: "0.4rem 0" }}>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <span className="mono">{name}</span>
        <span className="row">
          {/* One button that changes its words, not two: keyboard focus stays on it from Cancel to Retry. */}
          {hasButton ? (
            <button
              type="button"
              onFocus={() => (buttonFocused.current = true)}
              // Focus moved to another control. A blur with nowhere to go is the button leaving the
              // page (newer Chromium fires blur on removal), which the effect above handles.
              onBlur={(e) => {
                if (e.relatedTarget) buttonFocused.current = false;
              }}
              onClick={(e) => {
                // The second click of a double-click would undo the first: Retry, then Cancel.
                if (e.detail > 1) return;
                (canRetry ? onRetry : onCancel)();
              }}
              aria-label={`${canRetry ? "Retry" : "Cancel"} ${name}`}
              data-testid={canRetry ? "upload-retry" : "upload-cancel"}
            >
              {canRetry ? "Retry" : "Cancel"}
            </button>
          ) : null}
          <span className={BADGE[item.state] ?? "badge"}>{item.state}</span>
        </span>
      </div>
      <progress max={Math.max(1, size)} value={item.sent} aria-label={`Upload of ${name}`} />
      {item.message && item.state !== "done" && (
        <p className={item.state === "cancelled" ? "muted" : "error"} data-testid={item.state === "cancelled" ? "upload-note" : "upload-error"}>
          {aboutFile(name, item.message)}
        </p>
      )}
    </li>
  );
}
