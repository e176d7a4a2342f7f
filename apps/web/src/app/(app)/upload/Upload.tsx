"use client";
import Link from "next/link";
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from "react";
import { ErrorBox, Loading } from "@/components/ui";
import { describeError, fromGraphQLErrors } from "@/lib/errors";
import { gql } from "@/lib/gql";
import { CASE_HEADER, CASE_PROGRESS, CREATE_CASE } from "@/lib/operations";
import { useQuery } from "@/lib/useQuery";
import { isoFromLocalInput } from "@/lib/format";
import { isAnalysing, type CaseDetailsFields } from "@/lib/caseDetails";
import { SpecimenField } from "@/components/SpecimenField";
import { CaseDetails } from "./CaseDetails";

interface FileState {
  key: string;
  name: string;
  size: number;
  sent: number;
  state: "queued" | "uploading" | "done" | "rejected";
  message?: string;
}

interface Progress {
  caseAnalysisProgress: {
    caseStatus: string;
    slideCount: number;
    doneCount: number;
    failedCount: number;
    progress: number;
    slides: { slideId: string; status: string; error: string | null; progress: number; cellCount: number; predictedCellCount: number; job: { step: string | null } | null }[];
  };
}

/** XHR rather than fetch: only XHR reports upload progress. */
function uploadOne(caseId: string, kind: string, file: File, onProgress: (sent: number) => void): Promise<{ ok: boolean; message: string }> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/uploads?caseId=${encodeURIComponent(caseId)}&kind=${kind}`);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onerror = () => resolve({ ok: false, message: "The server could not be reached." });
    xhr.onload = () => {
      let body: { errors?: { message?: string; extensions?: { code?: string } }[] } | null = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && !body?.errors?.length) return resolve({ ok: true, message: "Uploaded; analysis queued." });
      const err = body?.errors?.length ? fromGraphQLErrors(body.errors, xhr.status) : null;
      resolve({ ok: false, message: err?.message ?? `Upload refused (HTTP ${xhr.status}).` });
    };
    const form = new FormData();
    form.append("files", file, file.name);
    xhr.send(form);
  });
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
  // Uploads in flight (a second drop while the first batch is sending runs beside it).
  const [sending, setSending] = useState(0);
  const busy = sending > 0;

  const header = useQuery<{ case: (CaseDetailsFields & { accession: string; slides: { id: string }[] }) | null }>(CASE_HEADER, { id: caseId }, { skip: !caseId });
  // Poll every second while something is being analysed, then every 10 s (a new upload or
  // another technician's upload shows up without a reload).
  const [active, setActive] = useState(true);
  const progress = useQuery<Progress>(CASE_PROGRESS, { caseId }, { skip: !caseId, poll: true, pollMs: active || busy ? 1000 : 10_000 });
  const pd = progress.data?.caseAnalysisProgress;
  const analysing = !pd || pd.caseStatus === "ANALYZING" || pd.slides.some((s) => isAnalysing(s.status));
  useEffect(() => setActive(analysing), [analysing]);

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
  function send(list: File[]) {
    if (!caseId || !list.length) return;
    const items: FileState[] = list.map((f, i) => ({ key: `${Date.now()}-${i}-${f.name}`, name: f.name, size: f.size, sent: 0, state: "queued" }));
    setFiles((prev) => [...items, ...prev]);
    // A failure of one batch must not stop the ones queued behind it.
    sendQueue.current = sendQueue.current.then(() => sendNow(caseId, list, items)).catch(() => undefined);
  }

  async function sendNow(caseId: string, list: File[], items: FileState[]) {
    setSending((n) => n + 1);
    for (let i = 0; i < list.length; i++) {
      const item = items[i]!;
      const update = (patch: Partial<FileState>) => setFiles((prev) => prev.map((p) => (p.key === item.key ? { ...p, ...patch } : p)));
      update({ state: "uploading" });
      const r = await uploadOne(caseId, kind, list[i]!, (sent) => update({ sent }));
      update({ state: r.ok ? "done" : "rejected", message: r.message, sent: r.ok ? item.size : 0 });
    }
    setSending((n) => n - 1);
    void header.reload();
    void progress.reload();
  }

  function onDrop(e: DragEvent<HTMLDivElement>) {
    e.preventDefault();
    setOver(false);
    send([...e.dataTransfer.files]);
  }

  const p = progress.data?.caseAnalysisProgress;
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
              <input name="accession" required pattern="[A-Za-z0-9._\-]{3,40}" title="3-40 letters, digits, dot, dash or underscore" data-testid="case-accession-input" />
            </label>
            <label>
              Patient study id
              <input name="patientRef" required maxLength={100} placeholder="e.g. CART-017" data-testid="case-patient-input" />
            </label>
            <label>
              CAR-T product
              <input name="product" placeholder="e.g. tisagenlecleucel" data-testid="case-product-input" />
            </label>
            <label>
              Timepoint
              <input name="timepoint" placeholder="e.g. day +7" data-testid="case-timepoint-input" />
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
            {header.data?.case && <CaseDetails value={header.data.case} onSaved={() => void header.reload()} />}
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
              <p>Drop JPEG or PNG images here, or</p>
              <label style={{ alignItems: "center" }}>
                <span className="sr-only">Choose images</span>
                <input
                  type="file"
                  multiple
                  accept="image/png,image/jpeg"
                  disabled={busy}
                  data-testid="file-input"
                  ref={fileInput}
                  onChange={(e) => {
                    send([...(e.target.files ?? [])]);
                    e.target.value = "";
                  }}
                />
              </label>
            </div>
            {files.length > 0 && (
              <ul style={{ listStyle: "none", padding: 0 }} data-testid="upload-list">
                {files.map((f) => (
                  <li key={f.key} data-testid="upload-item" data-state={f.state} style={{ margin: "0.4rem 0" }}>
                    <div className="row" style={{ justifyContent: "space-between" }}>
                      <span className="mono">{f.name}</span>
                      <span className={f.state === "rejected" ? "badge bad" : f.state === "done" ? "badge ok" : "badge"}>{f.state}</span>
                    </div>
                    <progress max={Math.max(1, f.size)} value={f.sent} aria-label={`Upload of ${f.name}`} />
                    {f.state === "rejected" && (
                      <p className="error" role="alert" data-testid="upload-error">
                        {f.name}: {f.message}
                      </p>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </div>
          <div className="panel" data-testid="analysis-panel">
            <h2 style={{ marginTop: 0 }}>Analysis</h2>
            <ErrorBox error={progress.error} />
            {!p ? (
              progress.loading && <Loading what="the analysis" />
            ) : p.slideCount === 0 ? (
              <p className="muted" data-testid="analysis-empty">
                No images in this case yet.
              </p>
            ) : (
              <>
                <div data-testid="analysis-summary">
                  {p.doneCount} of {p.slideCount} images analysed{p.failedCount ? `, ${p.failedCount} failed` : ""} · case {p.caseStatus.replace("_", " ")}
                </div>
                <progress max={1} value={p.progress} aria-label="Analysis progress" data-testid="analysis-progress" />
                <table style={{ marginTop: "0.5rem" }}>
                  <thead>
                    <tr>
                      <th>Image</th>
                      <th>Status</th>
                      <th className="num">Cells</th>
                      <th className="num">Predicted</th>
                      <th>Step</th>
                    </tr>
                  </thead>
                  <tbody>
                    {p.slides.map((s, i) => (
                      <tr key={s.slideId} data-testid="analysis-slide" data-status={s.status}>
                        <td>#{i + 1}</td>
                        <td>
                          {s.status}
                          {s.error && <div className="error">{s.error}</div>}
                          {s.status === "DONE" && s.cellCount === 0 && (
                            <div className="notice" data-testid="analysis-no-cells">
                              No white cells found. The detector looks for blue-violet nuclei (Romanowsky or Giemsa stain)
                              that fill a visible part of the field: check stain and focus, crop closer to the cells, or
                              upload them as single-cell crops.
                            </div>
                          )}
                        </td>
                        <td className="num" data-testid="analysis-cells">
                          {s.cellCount}
                        </td>
                        <td className="num">{s.predictedCellCount}</td>
                        <td>
                          <progress max={1} value={s.progress} aria-label={`Analysis of image ${i + 1}`} style={{ width: 120 }} /> {s.job?.step ?? ""}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            )}
            {analysing && p && p.slideCount > 0 && <p className="muted">Refreshing every second while the worker analyses.</p>}
          </div>
        </>
      )}
    </div>
  );
}
