"use client";
import { useEffect, useRef, useState } from "react";
import type { Role } from "@/auth/roles";
import { ConfusionMatrix, historyNotes, historySeries, LineChart } from "@/charts/Charts";
import { useAsk } from "@/components/AskDialog";
import { Empty, ErrorBox, formatDateTime, Loading } from "@/components/ui";
import { ApiError, describeError } from "@/lib/errors";
import { noLongerHeld } from "@rcmnet/api/noLongerHeld";
import { gql } from "@/lib/gql";
import {
  accuracyDifferenceText,
  type LeakageEvidence,
  leakageText,
  modelMetrics,
  pairingWarning,
  type PairingEvidence,
  pct,
  readTestMetrics,
  recallWithInterval,
  type RegressionEvidence,
  regressionText,
  TRAINED_OUTSIDE,
  testCellsText,
} from "@/lib/metrics";
import {
  CHAMPION_REPREDICTION,
  COMPARE_MODELS,
  DECIDE_PROMOTION,
  MODELS,
  PROPOSE_PROMOTION,
  PROPOSE_ROLLBACK,
  RERUN_REPREDICTION,
} from "@/lib/operations";
import { useAction } from "@/lib/useAction";
import { useQuery } from "@/lib/useQuery";
import { labelName } from "@/lib/labels";
import { mayRerun, pollInterval, type Reprediction, repredictionLine } from "./reprediction";
import { BULK_CONFIRMED_CAVEAT, bulkConfirmedText } from "./bulkConfirmed";
import { candidatesScoredText } from "./candidatesScored";
import { versionFigures } from "./versionFigures";

interface Version {
  id: string;
  name: string;
  version: string;
  status: "CANDIDATE" | "CHAMPION" | "ARCHIVED";
  labels: string[];
  inputSize: number;
  metrics: unknown;
  artifactSha256: string;
  predictionCount: number;
  createdAt: string;
  parent: { id: string; name: string; version: string } | null;
  /** The TEST part its own figures were measured on (null: none, e.g. a model registered from a directory). */
  testSet: { snapshotId: string; cells: number; snapshot: { id: string; name: string } | null } | null;
}

interface Promotion {
  id: string;
  kind: "PROMOTE" | "ROLLBACK";
  state: "PROPOSED" | "APPROVED" | "REJECTED";
  reason: string;
  proposedAt: string;
  decidedAt: string | null;
  decisionNote: string | null;
  modelVersion: { id: string; name: string; version: string; status: string };
  proposedBy: { id: string; displayName: string };
  decidedBy: { displayName: string } | null;
  lostClasses: string[];
  evidence: Evidence | null;
}

interface Evidence extends PairingEvidence {
  snapshotId: string;
  snapshot: { name: string } | null;
  /** Null on proposals recorded before the count was (2026-11-27). */
  testCells: number | null;
  /** RCMNET_MIN_TEST_CELLS when proposed; null on proposals recorded before the minimum. */
  minTestCells: number | null;
  /** TEST labels that were bulk confirmations of AI calls; null: not recorded (older snapshots and proposals). */
  bulkConfirmedTestCells: number | null;
  /** Model versions scored on the snapshot's TEST part, the candidate included and the champion it is compared with not; null: not recorded (before 2026-11-28). */
  candidatesScoredOnTest: number | null;
  candidate: Figures;
  champion: Figures | null;
  untestedLabels: string[];
  /** Below the champion by point estimate, a class's with its paired counts where paired. */
  regressions: RegressionEvidence[];
  acceptedRegression: boolean;
}

interface Figures extends LeakageEvidence {
  modelVersion: { name: string; version: string };
  accuracy: number | null;
  macroF1: number | null;
  correct: number | null;
  abstained: number | null;
  /** recallCi95: Wilson 95% interval, [low, high] (null where support is 0). */
  perClass: { label: string; recall: number | null; support: number; recallCi95: number[] | null }[];
}

/**
 * One model's line of a proposal's evidence: its abstentions (counted as wrong in top-1, and each
 * model abstains at its own threshold), its accuracy on the cells it answered, and the leakage
 * that makes its figures optimistic, or that cannot be checked (trained outside this platform).
 */
function figuresText(f: Figures, testCells: number | null): string {
  const leakage = leakageText(f);
  const leak = leakage ? ` (${leakage})` : "";
  const answered = testCells !== null && f.abstained !== null ? testCells - f.abstained : null;
  const declined =
    f.abstained === null
      ? ""
      : `, abstained on ${f.abstained}${testCells !== null ? ` of ${testCells}` : ""}${answered && f.correct !== null ? ` (top-1 on the ${answered} answered: ${pct(f.correct / answered)})` : ""}`;
  return `${f.modelVersion.name} ${f.modelVersion.version}: top-1 ${pct(f.accuracy)}, macro-F1 ${pct(f.macroF1)}${declined}${leak}`;
}

/**
 * Each class's recall, candidate against champion, with its Wilson interval and TEST cells: how
 * little a few cells tell (3 of 4 is 30.0–95.5%). Two intervals overlapping is not a test of the
 * difference: a regression's paired counts are (regressionText).
 */
function recallText(e: Evidence): string {
  if (e.candidate.perClass.length === 0) return "";
  // A first promotion: the candidate's own recalls, nothing to set them against.
  if (!e.champion) {
    const own = e.candidate.perClass.filter((c) => c.support > 0).map((c) => `${labelName(c.label)} ${recallWithInterval(c)}, ${c.support} cells`);
    return own.length ? `Recall with 95% intervals: ${own.join("; ")}.` : "";
  }
  const theirs = new Map(e.champion.perClass.map((c) => [c.label, c]));
  const rows = e.candidate.perClass
    .filter((c) => c.support > 0)
    .map((c) => `${labelName(c.label)} ${recallWithInterval(c)} against ${recallWithInterval(theirs.get(c.label))}, ${c.support} cells`);
  return rows.length ? `Recall with 95% intervals, candidate against champion: ${rows.join("; ")}.` : "";
}

function untestedText(e: Evidence): string | null {
  // A first promotion (no champion) rests on the candidate's figures alone.
  return e.untestedLabels.length
    ? `Untested: this TEST part has no cell of ${e.untestedLabels.map(labelName).join(", ")}; no figure here says how ${e.champion ? "either model" : "the model"} does on ${e.untestedLabels.length === 1 ? "it" : "them"}.`
    : null;
}

/** What the decider weighs: both models on the same locked TEST part, as the proposal recorded. */
function evidenceText(p: Promotion): string | null {
  const lost = p.lostClasses.length ? `It cannot suggest ${p.lostClasses.map(labelName).join(", ")}, which the champion it replaces can.` : "";
  const e = p.evidence;
  if (!e) return lost || null;
  const lines = [figuresText(e.candidate, e.testCells), ...(e.champion ? [`against the champion ${figuresText(e.champion, e.testCells)}`] : [])];
  // Beside the TEST cell count: how many of those labels were confirmed in bulk (weaker evidence).
  const cells = [testCellsText(e), bulkConfirmedText(e.bulkConfirmedTestCells, e.testCells)].filter(Boolean).join("; ");
  const where = `snapshot ${e.snapshot?.name ?? e.snapshotId.slice(0, 8)} (${cells})`;
  return [`On the TEST part of ${where}: ${lines.join("; ")}.`, accuracyDifferenceText(e), recallText(e), lost].filter(Boolean).join(" ");
}

/**
 * What the decider must not miss, shown apart from the figures: evaluations not paired for a
 * reason that matters (different TEST items, a damaged per-cell record, no TEST cell), regressions,
 * untested classes, and a candidate that is the best of several scored on the same TEST part.
 */
function warningsText(p: Promotion): string {
  return p.evidence
    ? [pairingWarning(p.evidence), regressionText(p.evidence, labelName), untestedText(p.evidence), candidatesScoredText(p.evidence.candidatesScoredOnTest)].filter(Boolean).join(" ")
    : "";
}

interface Data {
  modelVersions: { nodes: Version[] };
  modelPromotions: { nodes: Promotion[] };
  datasetSnapshots: { nodes: { id: string; name: string; itemCount: number; createdAt: string }[] };
}

interface ChampionData {
  championModel: { id: string; name: string; version: string; reprediction: Reprediction | null } | null;
}

/** False while the tab is hidden: nobody reads a line polled then. */
function usePageVisible(): boolean {
  const [visible, setVisible] = useState(true);
  useEffect(() => {
    const update = () => setVisible(!document.hidden);
    update();
    document.addEventListener("visibilitychange", update);
    return () => document.removeEventListener("visibilitychange", update);
  }, []);
  return visible;
}

export function Models({ role, userId }: { role: Role; userId: string }) {
  const { data, error, loading, reload } = useQuery<Data>(MODELS);
  // Only the champion's line is polled while its re-prediction is queued or running (MODELS
  // carries every version's metrics, prediction counts and promotions), and not in a hidden tab.
  const [pollMs, setPollMs] = useState<number | null>(null);
  const visible = usePageVisible();
  const champion = useQuery<ChampionData>(CHAMPION_REPREDICTION, {}, { pollMs: pollMs ?? undefined, poll: pollMs !== null && visible });
  const championModel = champion.data?.championModel ?? null;
  const reprediction = championModel?.reprediction ?? null;
  useEffect(() => setPollMs(pollInterval(reprediction)), [reprediction]);
  // Its status moved (queued, running, done, or another champion): prediction counts did too, so MODELS once.
  const championState = champion.data ? `${championModel?.id ?? ""}:${reprediction?.status ?? ""}` : null;
  const lastChampionState = useRef<string | null>(null);
  useEffect(() => {
    if (championState === null) return;
    if (lastChampionState.current !== null && lastChampionState.current !== championState) void reload({ background: true });
    lastChampionState.current = championState;
  }, [championState, reload]);
  const reloadChampion = champion.reload;
  const [selected, setSelected] = useState<string | null>(null);
  const versions = data?.modelVersions.nodes ?? [];
  const current =
    versions.find((v) => v.id === selected) ??
    versions.find((v) => v.status === "CHAMPION") ??
    versions[0] ??
    null;

  const { act, actionError, busy } = useAction(() => Promise.all([reload(), reloadChampion()]));

  // Proposals and rejections are audited with a reason (the dialog's default question).
  const { ask, dialog } = useAsk();

  if (loading && !data) return <Loading what="models" />;
  return (
    <div>
      <h1>Models</h1>
      {dialog}
      <ErrorBox error={error} />
      <ErrorBox error={actionError} testId="model-action-error" />
      {/* From championModel, not the versions table: shown even when the champion is not among the 50 newest versions. */}
      {championModel && reprediction && (
        <div data-testid="champion-reprediction-row" data-model={`${championModel.name}@${championModel.version}`} style={{ marginBottom: "0.5rem" }}>
          <strong>
            Champion {championModel.name} {championModel.version}
          </strong>
          <ChampionReprediction
            r={reprediction}
            canRerun={mayRerun(role, reprediction)}
            busy={busy}
            onRerun={() =>
              void ask(
                {
                  title: `Why run the re-prediction of open cases by ${championModel.name} ${championModel.version} again?`,
                  confirm: "Run again",
                },
                (reason) => act(() => gql(RERUN_REPREDICTION, { modelVersionId: championModel.id, reason })),
              )
            }
          />
        </div>
      )}
      {versions.length === 0 ? (
        error ? null : <Empty testId="models-empty">No model is registered yet.</Empty>
      ) : (
        <table data-testid="model-versions">
          <thead>
            <tr>
              <th>Model</th>
              <th>Status</th>
              <th className="num">Test accuracy</th>
              <th className="num">Macro-F1</th>
              <th>Test set</th>
              <th className="num">Predictions</th>
              <th>Parent</th>
              <th>Registered</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => {
              const m = modelMetrics(v.metrics).test;
              return (
                <tr
                  key={v.id}
                  data-testid="model-row"
                  data-status={v.status}
                  data-model={`${v.name}@${v.version}`}
                  aria-selected={current?.id === v.id}
                >
                  <td>
                    <button type="button" onClick={() => setSelected(v.id)} data-testid="model-select">
                      {v.name} {v.version}
                    </button>
                  </td>
                  <td>
                    <span className={`badge ${v.status === "CHAMPION" ? "ok" : ""}`}>{v.status}</span>
                  </td>
                  <td className="num">{pct(m.accuracy)}</td>
                  <td className="num">{pct(m.macroF1)}</td>
                  <td
                    data-testid="model-test-set"
                    data-snapshot={v.testSet?.snapshot?.name ?? ""}
                    data-cells={v.testSet?.cells ?? ""}
                  >
                    {v.testSet
                      ? `${v.testSet.snapshot?.name ?? v.testSet.snapshotId.slice(0, 8)} · ${v.testSet.cells} TEST cells`
                      : "—"}
                  </td>
                  <td className="num">{v.predictionCount}</td>
                  <td>{v.parent ? `${v.parent.name} ${v.parent.version}` : "—"}</td>
                  <td>{formatDateTime(v.createdAt)}</td>
                  <td>
                    {role === "DATA_SCIENTIST" && v.status === "CANDIDATE" && (
                      <button
                        type="button"
                        disabled={busy}
                        data-testid="propose-promotion"
                        onClick={() =>
                          void ask(
                            {
                              title: `Why should ${v.name} ${v.version} become the champion?`,
                              confirm: "Propose promotion",
                            },
                            async (reason) => {
                              let declined = false;
                              const outcome = await act(async () => {
                                try {
                                  await gql(PROPOSE_PROMOTION, { modelVersionId: v.id, reason });
                                } catch (e) {
                                  // A candidate below the champion (macro-F1 or a class's recall, point
                                  // estimates) is refused until its proposer acknowledges it, seeing the figures.
                                  if (!(e instanceof ApiError) || e.code !== "CONFLICT" || !e.message.includes("acceptRegression")) throw e;
                                  // Asked over the reason, which comes back as typed if the second try is refused.
                                  const accepted = await ask({
                                    title: `Propose ${v.name} ${v.version} although it is below the champion?`,
                                    message: `${e.message.replace(/\s*Propose again acknowledging.*$/, "")} The approver sees these figures beside your reason.`,
                                    confirmOnly: true,
                                    confirm: "Propose, accepting the regression",
                                  });
                                  if (accepted === null) {
                                    declined = true;
                                    return;
                                  }
                                  await gql(PROPOSE_PROMOTION, { modelVersionId: v.id, reason, acceptRegression: true });
                                }
                              });
                              // Declined: nothing was proposed; the reason's dialog stays open as typed, saying so.
                              return declined ? { ok: false, refusal: "Not proposed: the regression was not accepted. Propose again to see the figures, or Cancel." } : outcome;
                            },
                          )
                        }
                      >
                        Propose promotion
                      </button>
                    )}
                    {/* An administrator may propose one too, in an emergency (the API's policy); another decides. */}
                    {(role === "DATA_SCIENTIST" || role === "ADMIN") && v.status === "ARCHIVED" && (
                      <button
                        type="button"
                        disabled={busy}
                        data-testid="propose-rollback"
                        onClick={() =>
                          void ask(
                            {
                              title: `Why roll back to ${v.name} ${v.version}?`,
                              confirm: "Propose rollback",
                            },
                            (reason) => act(() => gql(PROPOSE_ROLLBACK, { modelVersionId: v.id, reason })),
                          )
                        }
                      >
                        Propose rollback
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {new Set(versions.flatMap((v) => (v.testSet ? [v.testSet.snapshotId] : []))).size > 1 && (
        <p className="muted" data-testid="model-test-sets-differ">
          These figures come from different test sets (each row names its snapshot and TEST cells): they do not compare.
          Compare two versions on one snapshot below.
        </p>
      )}

      <h2>Promotion requests</h2>
      <p className="muted">
        Two-person rule: a data scientist proposes, a different person with the ADMIN role decides.
      </p>
      {(data?.modelPromotions.nodes ?? []).length === 0 ? (
        error ? null : <Empty testId="promotions-empty">No promotion requests.</Empty>
      ) : (
        <table data-testid="promotions">
          <thead>
            <tr>
              <th>Kind</th>
              <th>Model</th>
              <th>State</th>
              <th>Reason</th>
              <th>Proposed</th>
              <th>Decision</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data!.modelPromotions.nodes.map((p) => (
              <tr key={p.id} data-testid="promotion-row" data-state={p.state}>
                <td>{p.kind}</td>
                <td>
                  {p.modelVersion.name} {p.modelVersion.version}
                </td>
                <td>
                  <span
                    className={`badge ${p.state === "APPROVED" ? "ok" : p.state === "REJECTED" ? "bad" : ""}`}
                  >
                    {p.state}
                  </span>
                </td>
                <td>
                  {p.reason}
                  {evidenceText(p) && (
                    <div className="muted" style={{ fontSize: "0.8rem" }} data-testid="promotion-evidence">
                      {evidenceText(p)}
                    </div>
                  )}
                  {p.evidence && pairingWarning(p.evidence) && (
                    <div className="error" style={{ fontSize: "0.8rem" }} data-testid="promotion-pairing">
                      {pairingWarning(p.evidence)}
                    </div>
                  )}
                  {p.evidence && regressionText(p.evidence, labelName) && (
                    <div className="error" style={{ fontSize: "0.8rem" }} data-testid="promotion-regression">
                      {regressionText(p.evidence, labelName)}
                    </div>
                  )}
                  {p.evidence && untestedText(p.evidence) && (
                    <div className="error" style={{ fontSize: "0.8rem" }} data-testid="promotion-untested">
                      {untestedText(p.evidence)}
                    </div>
                  )}
                  {p.evidence && candidatesScoredText(p.evidence.candidatesScoredOnTest) && (
                    <div className="error" style={{ fontSize: "0.8rem" }} data-testid="promotion-candidates-scored">
                      {candidatesScoredText(p.evidence.candidatesScoredOnTest)}
                    </div>
                  )}
                </td>
                <td>
                  {p.proposedBy.displayName}, {formatDateTime(p.proposedAt)}
                </td>
                <td>
                  {p.decidedBy
                    ? `${p.decidedBy.displayName}, ${formatDateTime(p.decidedAt)}${p.decisionNote ? ` — ${p.decisionNote}` : ""}`
                    : "—"}
                </td>
                <td>
                  {role === "ADMIN" && p.state === "PROPOSED" && p.proposedBy.id !== userId && (
                    <>
                      <button
                        type="button"
                        className="primary"
                        disabled={busy}
                        data-testid="approve-promotion"
                        onClick={async () => {
                          // Approval changes the model that classifies every new patient's cells:
                          // never one click, and the approver's reason goes into the audit trail.
                          await ask(
                            {
                              title: `Approve the ${p.kind.toLowerCase()} of ${p.modelVersion.name} ${p.modelVersion.version}?`,
                              message: [
                                "It becomes the champion at once: every new upload is classified by it.",
                                evidenceText(p),
                                warningsText(p),
                              ]
                                .filter(Boolean)
                                .join(" "),
                              confirm: "Approve",
                            },
                            (note) => act(() => gql(DECIDE_PROMOTION, { id: p.id, approve: true, note })),
                          );
                        }}
                      >
                        Approve
                      </button>{" "}
                      <button
                        type="button"
                        disabled={busy}
                        data-testid="reject-promotion"
                        onClick={() =>
                          void ask(
                            {
                              title: `Reject the ${p.kind.toLowerCase()} of ${p.modelVersion.name} ${p.modelVersion.version}?`,
                              confirm: "Reject",
                            },
                            (note) => act(() => gql(DECIDE_PROMOTION, { id: p.id, approve: false, note })),
                          )
                        }
                      >
                        Reject
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {current && <VersionDetail v={current} />}
      {versions.length >= 1 && <Compare versions={versions} snapshots={data?.datasetSnapshots.nodes ?? []} />}
    </div>
  );
}

/**
 * By the champion: whether open cases' undecided cells were predicted again by it (until then they
 * show the replaced model's calls), with Run again for those allowed when it failed or left cells.
 */
function ChampionReprediction({ r, canRerun, busy, onRerun }: { r: Reprediction; canRerun: boolean; busy: boolean; onRerun: () => void }) {
  const line = repredictionLine(r);
  return (
    <div className={line.tone} style={{ fontSize: "0.85rem" }} data-testid="champion-reprediction" data-status={r.status} role={line.tone === "error" ? "alert" : undefined}>
      {line.text}
      {canRerun && (
        <>
          {" "}
          <button type="button" disabled={busy} data-testid="rerun-reprediction" onClick={onRerun}>
            Run again
          </button>
        </>
      )}
    </div>
  );
}

function VersionDetail({ v }: { v: Version }) {
  const m = modelMetrics(v.metrics);
  // TEST figures, or for a model registered from a folder its trainer's validation split, so named.
  const shown = versionFigures(v.metrics);
  // As on the run's page: curves measured on TRAIN (no VAL set) are named so, the kept epoch marked.
  const notes = historyNotes(v.metrics);
  const h = historySeries(m.history, notes);
  return (
    <section className="panel" data-testid="model-detail" style={{ marginTop: "1rem" }}>
      <h2 style={{ marginTop: 0 }}>
        {v.name} {v.version} <span className="badge">{v.status}</span>
      </h2>
      <p className="muted mono">
        labels: {v.labels.join(", ")} · input {v.inputSize}px · weights sha256 {v.artifactSha256.slice(0, 16)}
        …
      </p>
      <p data-testid="model-figures" data-source={shown.source}>
        Accuracy ({shown.name}) {pct(shown.figures.accuracy)} · macro-F1 {pct(shown.figures.macroF1)}
        {shown.caveat && <span className="muted"> — {shown.caveat}</span>}
      </p>
      <div className="grid2">
        <div>
          <ConfusionMatrix
            labels={shown.figures.confusion?.labels ?? []}
            columns={shown.figures.confusion?.predictedLabels}
            matrix={shown.figures.confusion?.matrix ?? []}
            title={`Confusion matrix (${shown.name})`}
          />
        </div>
        <div>
          <LineChart series={h.loss} title="Training loss" yLabel="loss" testId="loss-chart" marker={h.kept} />
          <LineChart
            series={h.accuracy}
            title="Accuracy"
            yLabel="accuracy"
            testId="accuracy-chart"
            yDomain={h.accuracyDomain}
            marker={h.kept}
          />
          {notes.valIsTrain && (
            <p className="muted" data-testid="model-val-is-train">
              This model's snapshot had no validation images: the dashed curves are measured on the training images (optimistic).
            </p>
          )}
        </div>
      </div>
      <PerClass metrics={shown.figures.perClass} caption={`Per class (${shown.name})`} />
    </section>
  );
}

function PerClass({
  metrics,
  caption,
}: {
  metrics: Record<string, { precision?: number; recall?: number; f1?: number; support?: number }>;
  caption: string;
}) {
  const rows = Object.entries(metrics);
  if (!rows.length) return null;
  return (
    <table data-testid="model-per-class">
      <caption style={{ textAlign: "left" }}>{caption}</caption>
      <thead>
        <tr>
          <th>Class</th>
          <th className="num">Precision</th>
          <th className="num">Recall</th>
          <th className="num">F1</th>
          <th className="num">Support</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, r]) => (
          <tr key={label}>
            <td>{labelName(label)}</td>
            <td className="num">{pct(r.precision)}</td>
            <td className="num">{pct(r.recall)}</td>
            <td className="num">{pct(r.f1)}</td>
            <td className="num">{r.support ?? "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface Comparison {
  compareModels: {
    testCount: number;
    relabelledTestCells: number;
    /** Null: not recorded (a snapshot taken before it was). */
    bulkConfirmedTestCells: number | null;
    untestedLabels: string[];
    snapshot: { name: string };
    a: {
      accuracy: number;
      macroF1: number;
      abstained: number;
      leakedPatients: number;
      leakedCells: number;
      trainingDataKnown: boolean;
      confusion: unknown;
      modelVersion: { name: string; version: string };
    };
    /** Null when A was evaluated alone. */
    b: {
      accuracy: number;
      macroF1: number;
      abstained: number;
      leakedPatients: number;
      leakedCells: number;
      trainingDataKnown: boolean;
      confusion: unknown;
      modelVersion: { name: string; version: string };
    } | null;
  };
}

function Compare({
  versions,
  snapshots,
}: {
  versions: Version[];
  snapshots: { id: string; name: string; itemCount: number }[];
}) {
  const [a, setA] = useState(versions[0]!.id);
  // "": A alone (its own figures: a first promotion, with no champion, rests on them).
  const [b, setB] = useState(versions[1]?.id ?? "");
  const [snap, setSnap] = useState(snapshots[0]?.id ?? "");
  const [result, setResult] = useState<Comparison["compareModels"] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const opt = versions.map((v) => (
    <option key={v.id} value={v.id}>
      {v.name} {v.version} ({v.status})
    </option>
  ));
  return (
    <section className="panel" data-testid="compare">
      <h2 style={{ marginTop: 0 }}>Compare two versions on the same locked test set, or evaluate one</h2>
      {snapshots.length === 0 ? (
        <p className="muted">
          Create a dataset snapshot first (Retraining page): comparisons run on its locked TEST part.
        </p>
      ) : (
        <form
          className="row"
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            try {
              setResult((await gql<Comparison>(COMPARE_MODELS, { a, b: b || null, snapshotId: snap })).compareModels);
            } catch (err) {
              setError(describeError(err));
            } finally {
              setBusy(false);
            }
          }}
        >
          <label>
            A
            <select value={a} onChange={(e) => setA(e.target.value)} data-testid="compare-a">
              {opt}
            </select>
          </label>
          <label>
            B
            <select value={b} onChange={(e) => setB(e.target.value)} data-testid="compare-b">
              <option value="">none: evaluate A alone</option>
              {opt}
            </select>
          </label>
          <label>
            Snapshot
            <select value={snap} onChange={(e) => setSnap(e.target.value)} data-testid="compare-snapshot">
              {snapshots.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({s.itemCount} cells)
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="primary" disabled={busy || a === b} data-testid="compare-run">
            {busy ? "Evaluating…" : b ? "Compare" : "Evaluate A"}
          </button>
        </form>
      )}
      <ErrorBox error={error} />
      {result && (
        <div data-testid="compare-result">
          <p>
            {result.testCount} test cells of snapshot {result.snapshot.name}.{" "}
            <span data-testid="compare-bulk" data-bulk={result.bulkConfirmedTestCells ?? ""}>
              {bulkConfirmedText(result.bulkConfirmedTestCells, result.testCount)}
              {result.bulkConfirmedTestCells ? ` (${BULK_CONFIRMED_CAVEAT})` : ""}.
            </span>
          </p>
          {result.relabelledTestCells > 0 && (
            <p className="error" role="alert" data-testid="compare-relabelled">
              {result.relabelledTestCells} of these test cells {noLongerHeld(result.relabelledTestCells)}:{" "}
              {result.b
                ? "both models are scored against labels since withdrawn. Take a new snapshot and compare on it."
                : "the model is scored against labels since withdrawn. Take a new snapshot and evaluate it on that."}
            </p>
          )}
          {result.untestedLabels.length > 0 && (
            <p className="error" data-testid="compare-untested">
              Untested: no test cell of {result.untestedLabels.map(labelName).join(", ")} in this snapshot; these figures say nothing
              about {result.untestedLabels.length === 1 ? "it" : "them"}.
            </p>
          )}
          <div className="grid2">
            {(["a", "b"] as const).map((side, i) => {
              const r = result[side];
              if (!r) return null;
              const t = readTestMetrics({ confusion: r.confusion });
              return (
                <div key={side}>
                  <h3>
                    {r.modelVersion.name} {r.modelVersion.version}: accuracy {pct(r.accuracy)}, macro-F1{" "}
                    {pct(r.macroF1)}, abstained {r.abstained}
                  </h3>
                  {r.leakedPatients > 0 && (
                    <p className="error" role="alert" data-testid={`compare-leak-${i}`}>
                      Trained on {r.leakedPatients} of these test patients ({r.leakedCells} cells): these figures are optimistic. Compare on a
                      snapshot whose test patients it has not seen.
                    </p>
                  )}
                  {!r.trainingDataKnown && (
                    <p className="error" data-testid={`compare-outside-${i}`}>
                      {r.modelVersion.name} {r.modelVersion.version} was {TRAINED_OUTSIDE}, so these figures may be optimistic.
                    </p>
                  )}
                  <ConfusionMatrix
                    labels={t.confusion?.labels ?? []}
                    columns={t.confusion?.predictedLabels}
                    matrix={t.confusion?.matrix ?? []}
                    title={`${r.modelVersion.name} ${r.modelVersion.version}`}
                    testId={`compare-matrix-${i}`}
                  />
                </div>
              );
            })}
          </div>
        </div>
      )}
    </section>
  );
}
