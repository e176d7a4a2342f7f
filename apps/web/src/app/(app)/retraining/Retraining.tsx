"use client";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { historyNotes, historySeries, LineChart } from "@/charts/Charts";
import { useAsk } from "@/components/AskDialog";
import { Empty, ErrorBox, formatDateTime, Loading } from "@/components/ui";
import { noLongerHeld } from "@rcmnet/api/noLongerHeld";
import { gql } from "@/lib/gql";
import { labelName } from "@/lib/labels";
import { modelMetrics, pct } from "@/lib/metrics";
import { CANCEL_RUN, CREATE_SNAPSHOT, START_RUN, TRAINING, TRAINING_RUN_LOG } from "@/lib/operations";
import { useAction } from "@/lib/useAction";
import { useQuery } from "@/lib/useQuery";
import { leftOutWithoutPatientText } from "./leftOut";
import { cancelDecision, cancelQuestion, type RunState, runStatusLine, stuck } from "./runStatus";
import { classRows } from "./snapshotClasses";

interface Run extends RunState {
  error: string | null;
  backend: string | null;
  snapshot: { id: string; name: string; itemCount: number };
  baseModel: { id: string; name: string; version: string } | null;
  producedModel: { id: string; name: string; version: string; status: string; metrics: unknown } | null;
}

interface Data {
  championModel: { id: string; name: string; version: string; metrics: unknown } | null;
  datasetSnapshots: { nodes: { id: string; name: string; itemCount: number; contentHash: string; labels: string[]; splitCounts: { train: number; val: number; test: number }; patientCounts: { train: number; val: number; test: number } | null; heldOutCells: number | null; casesWithoutPatient: number | null; casesLeftOutWithoutPatient: number | null; cellsLeftOutWithoutPatient: number | null; relabelledSince: number; labelCounts: unknown; createdAt: string }[] };
  trainingRuns: { nodes: Run[] };
}

const ACTIVE = new Set(["QUEUED", "RUNNING"]);

/** The browser's clock, moved on every 15 s while `ticking`: a status line's "queued 42 min" grows with it. */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}

export function Retraining() {
  const [active, setActive] = useState(false);
  // Every second while a run moves; every 30 s while it is stuck with no worker (nothing moves until one comes).
  const [stalled, setStalled] = useState(false);
  const { data, error, loading, reload } = useQuery<Data>(TRAINING, {}, { poll: active, pollMs: stalled ? 30_000 : 1000 });
  const [epochs, setEpochs] = useState(2);
  const [frozenEpochs, setFrozenEpochs] = useState(1);
  const [snapshotId, setSnapshotId] = useState<string>("");
  const runs = data?.trainingRuns.nodes ?? [];
  // The runs as last polled, for a question answered after the poll moved them on.
  const latestRuns = useRef<Run[]>([]);
  useEffect(() => {
    latestRuns.current = data?.trainingRuns.nodes ?? [];
  }, [data]);
  const snapshots = data?.datasetSnapshots.nodes ?? [];
  const anyActive = runs.some((r) => ACTIVE.has(r.status));
  useEffect(() => setActive(anyActive), [anyActive]);
  const stuckRun = runs.find((r) => ACTIVE.has(r.status) && stuck(r)) ?? null;
  const anyStuck = stuckRun !== null;
  useEffect(() => setStalled(anyStuck), [anyStuck]);
  const now = useNow(anyActive);
  const [shown, setShown] = useState<string | null>(null);
  const run = runs.find((r) => r.id === shown) ?? runs[0] ?? null;

  const { act, actionError, notice, busy } = useAction(reload);
  // Cancelling a run throws its epochs away (it cannot be resumed): never one click.
  const { ask, dialog } = useAsk();

  if (loading && !data) return <Loading what="training data" />;
  const champion = data?.championModel;
  return (
    <div>
      <h1>Retraining</h1>
      {dialog}
      <ErrorBox error={error} />
      <ErrorBox error={actionError} testId="training-error" />
      {notice && (
        <p className="notice" role="status" data-testid="training-notice">
          {notice}
        </p>
      )}
      <div className="grid2">
        <form
          className="panel"
          onSubmit={(e) => {
            e.preventDefault();
            const name = String(new FormData(e.currentTarget).get("name") ?? "").trim();
            if (name)
              void act(
                () => gql<{ createDatasetSnapshot: { name: string; reused: boolean } }>(CREATE_SNAPSHOT, { name }),
                // Same labels as the newest snapshot: the API answers that one rather than a copy.
                ({ createDatasetSnapshot: s }) => (s.reused ? `No label has changed since snapshot ${s.name}: it is used again, and no new snapshot was taken.` : null),
              );
          }}
        >
          <h2 style={{ marginTop: 0 }}>1. Snapshot human labels</h2>
          <p className="muted">Freezes the latest human label of every cell in signed-out cases, split by patient into train/val/test: a patient's cells share one part, so the locked test part measures patients this platform's runs never train on. Parts never change once given. (A model fine-tuned from one trained before the split by patient may have learned from some: the run and comparison pages say so.)</p>
          <div className="row">
            <label>
              Snapshot name
              <input name="name" required defaultValue={`labels-${new Date().toISOString().slice(0, 10)}`} data-testid="snapshot-name" />
            </label>
            <button className="primary" type="submit" disabled={busy} data-testid="create-snapshot">
              Create snapshot
            </button>
          </div>
          {snapshots.length === 0 ? (
            error ? null : (
              <p className="muted" data-testid="snapshots-empty">
                No snapshots yet.
              </p>
            )
          ) : (
            <table style={{ marginTop: "0.6rem" }} data-testid="snapshots">
              <thead>
                <tr>
                  <th>Name</th>
                  <th className="num">Cells</th>
                  <th>Train/val/test cells</th>
                  <th>Train/val/test patients</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {snapshots.map((s) => (
                  <tr key={s.id} data-testid="snapshot-row">
                    <td title={`content hash ${s.contentHash}`}>
                      {s.name}
                      {s.relabelledSince > 0 && (
                        <span
                          className="badge bad"
                          data-testid="snapshot-relabelled"
                          title={`${s.relabelledSince} cell${s.relabelledSince === 1 ? "" : "s"} of this snapshot ${noLongerHeld(s.relabelledSince)}: training on it is refused; take a new snapshot`}
                        >
                          {" "}
                          {s.relabelledSince} label{s.relabelledSince === 1 ? "" : "s"} no longer held
                        </span>
                      )}
                    </td>
                    <td className="num">{s.itemCount}</td>
                    <td>
                      {s.splitCounts.train}/{s.splitCounts.val}/{s.splitCounts.test}
                      <SnapshotClasses labels={s.labels} labelCounts={s.labelCounts} />
                    </td>
                    <td data-testid="snapshot-patients" title={patientNote(s)}>
                      {s.patientCounts ? `${s.patientCounts.train}/${s.patientCounts.val}/${s.patientCounts.test}` : "— (split by cell)"}
                      {s.heldOutCells ? <span className="muted"> · {s.heldOutCells} cells held out</span> : null}
                      {leftOutWithoutPatientText(s.casesLeftOutWithoutPatient, s.cellsLeftOutWithoutPatient) && (
                        <div className="muted" style={{ fontSize: "0.8rem" }} data-testid="snapshot-left-out">
                          {leftOutWithoutPatientText(s.casesLeftOutWithoutPatient, s.cellsLeftOutWithoutPatient)}
                        </div>
                      )}
                    </td>
                    <td>{formatDateTime(s.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </form>
        <form
          className="panel"
          onSubmit={(e) => {
            e.preventDefault();
            const sid = snapshotId || snapshots[0]?.id;
            // Transfer learning: the first epochs train the new head only, with the backbone frozen.
            if (sid) void act(() => gql(START_RUN, { snapshotId: sid, config: champion ? { epochs, frozenEpochs: Math.min(frozenEpochs, epochs) } : { epochs } }));
          }}
        >
          {/* With no champion the run trains from scratch: no frozen phase to set (the API refuses one). */}
          <h2 style={{ marginTop: 0 }}>{champion ? "2. Train from the champion" : "2. Train a first model"}</h2>
          <p className="muted" data-testid="run-kind">
            {champion ? `Transfer learning from ${champion.name} ${champion.version} on the snapshot.` : "No champion yet: this run trains a model from scratch on the snapshot."} The result is registered as a CANDIDATE; promotion needs an
            administrator&apos;s approval.
          </p>
          <div className="row">
            <label>
              Snapshot
              <select value={snapshotId} onChange={(e) => setSnapshotId(e.target.value)} data-testid="run-snapshot">
                {snapshots.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Epochs
              <input type="number" min={1} max={100} value={epochs} onChange={(e) => setEpochs(Number(e.target.value))} data-testid="run-epochs" />
            </label>
            {champion && (
              <label>
                of which head-only (backbone frozen)
                <input type="number" min={0} max={epochs} value={frozenEpochs} onChange={(e) => setFrozenEpochs(Number(e.target.value))} data-testid="run-frozen-epochs" />
              </label>
            )}
            <button className="primary" type="submit" disabled={busy || !snapshots.length || anyActive} data-testid="start-run">
              Start training
            </button>
          </div>
          {/* One run at a time (the API refuses a second): the worker's cores go to one model. */}
          {anyActive && (
            <p className={stuckRun ? "error" : "muted"} data-testid="run-active-note">
              A training run is queued or running: start the next one when it has finished, or cancel it below.
              {stuckRun && " It is stuck with no worker: see its line below."}
            </p>
          )}
        </form>
      </div>

      <h2>Training runs</h2>
      {runs.length === 0 ? (
        error ? null : <Empty testId="runs-empty">No training runs yet.</Empty>
      ) : (
        <table data-testid="runs">
          <thead>
            <tr>
              <th>Queued</th>
              <th>Started</th>
              <th>Snapshot</th>
              <th>Status</th>
              <th style={{ width: "25%" }}>Progress</th>
              <th>Result</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => {
              const line = runStatusLine(r, now);
              return (
                <tr key={r.id} data-testid="run-row" data-status={r.status} data-stuck={stuck(r) ? "true" : undefined} aria-selected={run?.id === r.id}>
                  <td>
                    <button type="button" onClick={() => setShown(r.id)}>
                      {formatDateTime(r.createdAt)}
                    </button>
                  </td>
                  {/* When a worker took it: the queued time alone hid a run no worker had taken. */}
                  <td data-testid="run-started">{r.startedAt ? formatDateTime(r.startedAt) : ACTIVE.has(r.status) ? "not yet" : "never"}</td>
                  <td>{r.snapshot.name}</td>
                  <td>
                    <span className={`badge ${r.status === "SUCCEEDED" ? "ok" : r.status === "FAILED" ? "bad" : ""}`}>{r.status}</span>
                  </td>
                  <td>
                    <progress max={1} value={r.progress} aria-label="Training progress" data-testid="run-progress" /> {Math.round(r.progress * 100)}%
                    {line && (
                      <div className={line.tone} style={{ fontSize: "0.8rem" }} data-testid="run-status-line">
                        {line.text}
                      </div>
                    )}
                  </td>
                  <td>
                    {r.producedModel ? (
                      <Link href="/models" data-testid="run-produced-model">
                        {r.producedModel.name} {r.producedModel.version} ({r.producedModel.status})
                      </Link>
                    ) : (
                      (r.error ?? "—")
                    )}
                  </td>
                  <td>
                    {ACTIVE.has(r.status) && (
                      <button
                        type="button"
                        // Offered again after a cancel: once the run's worker stopped (stalled, or the
                        // run handed back to the queue), a second cancel is what ends it; while the
                        // worker lives, the API answers that the first is on its way.
                        disabled={busy}
                        onClick={() =>
                          // The answer is the reason (required; the dialog trims it and holds
                          // Confirm back while it is blank): kept with the training.cancel event.
                          void ask(cancelQuestion(r), (reason) => {
                            // The question stayed open while polling moved the run on: it may have
                            // finished meanwhile, and then nothing is sent (a notice, not an error;
                            // through act, which shows it and reloads the list). A run that ends after
                            // the last poll is still refused by the API (CONFLICT), shown in the dialog.
                            const decision = cancelDecision(r.id, latestRuns.current);
                            return decision.send ? act(() => gql(CANCEL_RUN, { id: r.id, reason })) : act(async () => undefined, decision.notice);
                          })
                        }
                        data-testid="cancel-run"
                      >
                        {r.cancelRequested ? "Cancel again" : "Cancel"}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {run && <RunDetail run={run} champion={champion ?? null} />}
    </div>
  );
}

function RunDetail({ run, champion }: { run: Run; champion: Data["championModel"] }) {
  // Only this run's log, polled while it runs (the list's poll carries none).
  const log = useQuery<{ trainingRun: { id: string; log: string } }>(TRAINING_RUN_LOG, { id: run.id }, { poll: ACTIVE.has(run.status), pollMs: 2000 });
  // Once more when the run's status changes: its last lines come as it finishes.
  const reloadLog = log.reload;
  // biome-ignore lint/correctness/useExhaustiveDependencies: run.status is the trigger, not a value read
  useEffect(() => {
    void reloadLog();
  }, [run.status, reloadLog]);
  const raw = run.producedModel?.metrics ?? run.metrics;
  const m = modelMetrics(raw);
  const notes = historyNotes(raw);
  const h = historySeries(m.history, notes);
  // Only the champion's figures on this run's own locked test cells compare (never its figures
  // from another snapshot), named by who it was: the champion may have changed since.
  const champ = m.champion;
  const champId = (raw as { champion?: { modelVersionId?: unknown } } | null)?.champion?.modelVersionId;
  const champName = !champ ? null : champion && champId === champion.id ? `${champion.name} ${champion.version}` : "the champion at the time";
  const runLeak = leakOf((raw as { test?: unknown } | null)?.test);
  const champLeak = leakOf((raw as { champion?: unknown } | null)?.champion);
  const runOutside = trainedOutside((raw as { test?: unknown } | null)?.test);
  const champOutside = trainedOutside((raw as { champion?: unknown } | null)?.champion);
  return (
    <section className="panel" style={{ marginTop: "1rem" }} data-testid="run-detail">
      <h2 style={{ marginTop: 0 }}>
        Run {run.id.slice(0, 8)} <span className="badge">{run.status}</span> {run.backend && <span className="muted">backend {run.backend}</span>}
      </h2>
      <div className="grid2">
        <div>
          <LineChart series={h.loss} title="Loss" yLabel="loss" testId="run-loss-chart" marker={h.kept} />
          <LineChart series={h.accuracy} title="Accuracy" yLabel="accuracy" yDomain={h.accuracyDomain} testId="run-accuracy-chart" marker={h.kept} />
          {notes.valIsTrain && (
            <p className="muted" data-testid="run-val-is-train">
              The snapshot has no validation images: the dashed curves are measured on the training images, and the kept epoch was chosen on them (optimistic).
            </p>
          )}
        </div>
        <div>
          <h3>Result vs champion (locked test set)</h3>
          <table data-testid="run-vs-champion">
            <thead>
              <tr>
                <th />
                <th className="num">This run</th>
                <th className="num" data-testid="run-vs-champion-name">{champName ? `Champion (${champName})` : "Champion"}</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <td>Accuracy</td>
                <td className="num">{pct(m.test.accuracy)}</td>
                <td className="num">{pct(champ?.accuracy)}</td>
              </tr>
              <tr>
                <td>Macro-F1</td>
                <td className="num">{pct(m.test.macroF1)}</td>
                <td className="num">{pct(champ?.macroF1)}</td>
              </tr>
            </tbody>
          </table>
          {(runLeak || champLeak) && (
            <p className="error" role="alert" data-testid="run-leakage">
              {runLeak && `This run's base model learned from ${runLeak.patients} of these test patients (${runLeak.cells} cells). `}
              {champLeak && `The champion learned from ${champLeak.patients} of them (${champLeak.cells} cells). `}
              Figures on patients a model learned from are optimistic.
            </p>
          )}
          {(runOutside || champOutside) && (
            <p className="error" data-testid="run-trained-outside">
              {runOutside && "This run's base model was trained outside this platform (or fine-tuned from one that was). "}
              {champOutside && "The champion was trained outside this platform (or fine-tuned from one that was). "}
              What such a model learned from is unknown here: whether it learned from these test patients cannot be checked, and its figures may be optimistic.
            </p>
          )}
          {!champ && (
            <p className="muted" data-testid="run-vs-champion-none">
              No champion was evaluated on this run's test cells{ACTIVE.has(run.status) ? " yet" : ""}: the figures of a model on another snapshot's test set would not compare.
            </p>
          )}
          <h3>Log</h3>
          <pre className="log" data-testid="run-log" aria-live="off">
            {log.data?.trainingRun.id === run.id ? log.data.trainingRun.log || "(no output yet)" : "Loading the log…"}
          </pre>
          {run.error && <p className="error">{run.error}</p>}
        </div>
      </div>
    </section>
  );
}

/** Cells per class and part, folded: a class short of TRAIN or TEST cells is flagged on the summary. */
function SnapshotClasses({ labels, labelCounts }: { labels: string[]; labelCounts: unknown }) {
  const rows = classRows(labels, labelCounts);
  const flagged = rows.filter((r) => r.warning).length;
  return (
    <details data-testid="snapshot-classes">
      <summary>
        per class{flagged > 0 && <span className="badge bad"> {flagged} to check</span>}
      </summary>
      <table>
        <thead>
          <tr>
            <th>Class</th>
            <th className="num">Train</th>
            <th className="num">Val</th>
            <th className="num">Test</th>
            <th>
              <span className="sr-only">Note</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} data-testid="snapshot-class-row">
              <th scope="row">{labelName(r.label)}</th>
              <td className="num">{r.train}</td>
              <td className="num">{r.val}</td>
              <td className="num">{r.test}</td>
              <td style={r.warning ? { color: "var(--danger)" } : undefined}>{r.warning ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** Why a snapshot's patient figures read as they do (the row's tooltip). */
function patientNote(s: {
  patientCounts: unknown;
  heldOutCells: number | null;
  casesWithoutPatient: number | null;
  casesLeftOutWithoutPatient: number | null;
  cellsLeftOutWithoutPatient: number | null;
}): string {
  if (!s.patientCounts) return "Taken before snapshots were split by patient: its parts were split cell by cell.";
  const notes = [];
  // Before 2026-11-28 such cases were put in TRAIN; since, they are left out (casesLeftOutWithoutPatient).
  if (s.casesWithoutPatient) notes.push(`${s.casesWithoutPatient} case(s) without a patient id, learned from only (TRAIN): they may be any patient's`);
  const leftOut = leftOutWithoutPatientText(s.casesLeftOutWithoutPatient, s.cellsLeftOutWithoutPatient);
  if (leftOut) notes.push(`${leftOut}: such a case may be any patient's`);
  if (s.heldOutCells) {
    notes.push(`${s.heldOutCells} cell(s) held out: they sat in a less protected part than their patient's, or their image is also another cell's across the TEST line`);
  }
  return notes.length ? notes.join("; ") : "Every case in it names its patient; no cell held out.";
}

/**
 * Whether a run's metrics say the model's training data is not all known here (trained outside
 * the platform, or from a base that was). Runs recorded before this was have no flag: not said.
 */
function trainedOutside(metrics: unknown): boolean {
  return (metrics as { leakage?: { trainingDataKnown?: unknown } } | null | undefined)?.leakage?.trainingDataKnown === false;
}

/** TEST patients a model learned from, as a run's metrics record them (null when none). */
function leakOf(metrics: unknown): { patients: number; cells: number } | null {
  const l = (metrics as { leakage?: { patients?: unknown; cells?: unknown } } | null | undefined)?.leakage;
  return typeof l?.patients === "number" && l.patients > 0 && typeof l.cells === "number" ? { patients: l.patients, cells: l.cells } : null;
}
