// What an admin deciding a proposal weighs beside its reason: both models' figures on the TEST
// part they were compared on, and how many of its patients each learned from. Recorded with the
// proposal's audit event (the snapshot, its TEST cell count, the figures with each class's
// recall, the accuracy difference, the untested classes, the regressions the proposer
// acknowledged and the leakage at that time); proposals recorded before the figures were
// (2026-11-27) read them from the versions' stored evaluations. Since 2026-11-27 also the paired
// comparison (pairedComparison.ts) or why there is none, and each class's recall interval
// (proposals before: computed here from the recall and support they froze). McNemar's p is the
// mid-p since the switch to it; proposals frozen before hold the exact p and no mcnemarTest, and
// are read as EXACT: a frozen figure is never recomputed. A first promotion (no champion to
// replace) freezes the candidate's own figures on a TEST part since they are required
// (pairing NO_CHAMPION); those filed before carry none (evidence null). Since the minimum TEST size
// (RCMNET_MIN_TEST_CELLS) and whether each model's training data is known here
// (trainingDataKnown) were recorded, both are served; before, null: not recorded, never guessed.
// So is, since 2026-11-28, how many of the TEST labels were bulk confirmations of AI calls
// (bulkConfirmedTestCells; null: proposals before, or a snapshot taken before it was recorded),
// and how many model versions held an evaluation on its TEST part when it was proposed, the
// champion compared with not counted (candidatesScoredOnTest: the winner of several is optimistic;
// null: before).
import type { ModelPromotion, ModelVersion, PrismaClient } from "@rcmnet/db";
import { cachedEvaluation } from "../../jobs/model/evaluateOnSnapshot.ts";
import { isUuid } from "../../lib/pagination.ts";
import { figuresOf, withRecallCi95, type Figures, type Regression } from "./promotionFigures.ts";
import type { McNemarTest, PairedFigures, PairingStatus } from "./pairedComparison.ts";

interface Recorded {
  comparedOnSnapshotId?: string;
  figures?: { candidate?: Figures; champion?: Figures };
  lostClasses?: string[];
  testLeakage?: { candidate?: Leak; champion?: Leak };
  // Recorded since 2026-11-27 (older proposals: null, [] and false).
  testCells?: number;
  /** RCMNET_MIN_TEST_CELLS when it was proposed (older proposals: none, served null). */
  minTestCells?: number;
  /**
   * TEST labels that were bulk confirmations of AI calls (since 2026-11-28, where the snapshot
   * records it; otherwise none, served null: not recorded).
   */
  bulkConfirmedTestCells?: number;
  /**
   * Model versions with an evaluation on its TEST part, whenever registered, the candidate included
   * and the champion compared with not (proposePromotion.ts candidatesScoredOnTest; since
   * 2026-11-28; otherwise none, served null: not recorded).
   */
  candidatesScoredOnTest?: number;
  accuracyDifference?: { difference: number; lower: number; upper: number };
  untestedLabels?: string[];
  regressions?: Regression[];
  acceptedRegression?: boolean;
  // Recorded since 2026-11-27 too (older proposals: NOT_RECORDED). INCONSISTENT and NO_TEST_CELLS
  // since the switch to mid-p: before, a damaged per-cell record was filed as NOT_RECORDED (its
  // note saying it "keeps no readable call"), and an empty TEST part could not be proposed on.
  pairing?: { status?: EvidencePairing; note?: string };
  paired?: PairedFigures;
}
/** A first promotion (no champion yet, since its figures are required) has nothing to pair with. */
type EvidencePairing = PairingStatus | "NO_CHAMPION";

interface Leak {
  patients?: number;
  cells?: number;
  /** Absent from proposals filed before it was recorded: served null, not true. */
  trainingDataKnown?: boolean;
}

/** Said of proposals filed before pairing was recorded: their figures came from counts alone. */
const FILED_UNPAIRED =
  "Filed before the paired comparison was recorded (2026-11-27): the accuracy difference is unpaired (it treats the two accuracies as independent, which on the same cells they are not)";

/** What the proposal's audit event recorded beside the proposal itself. */
async function recorded(prisma: Pick<PrismaClient, "auditEvent">, promotion: ModelPromotion): Promise<Recorded> {
  const event = await prisma.auditEvent.findFirst({
    where: { entityType: "ModelPromotion", entityId: promotion.id, action: { in: ["model.proposePromotion", "model.proposeRollback"] } },
    select: { after: true },
  });
  return (event?.after ?? {}) as Recorded;
}

/** The snapshot on whose TEST part the proposal's figures were measured (none for a rollback). */
export async function comparedOnSnapshotId(prisma: Pick<PrismaClient, "auditEvent">, promotion: ModelPromotion): Promise<string | null> {
  return (await recorded(prisma, promotion)).comparedOnSnapshotId ?? null;
}

/** Classes of the replaced champion the proposed version cannot suggest (a rollback only). */
export async function lostClasses(prisma: PrismaClient, promotion: ModelPromotion): Promise<string[]> {
  return (await recorded(prisma, promotion)).lostClasses ?? [];
}

export async function promotionEvidence(prisma: PrismaClient, promotion: ModelPromotion) {
  const proposal = await recorded(prisma, promotion);
  const snapshotId = proposal.comparedOnSnapshotId;
  if (!snapshotId) return null;
  const [candidate, champion, snapshot] = await Promise.all([
    prisma.modelVersion.findUniqueOrThrow({ where: { id: promotion.modelVersionId } }),
    promotion.replacesChampionId ? prisma.modelVersion.findUnique({ where: { id: promotion.replacesChampionId } }) : null,
    isUuid(snapshotId) ? prisma.datasetSnapshot.findUnique({ where: { id: snapshotId } }) : null,
  ]);
  return {
    snapshotId,
    snapshot,
    testCells: proposal.testCells ?? null,
    minTestCells: proposal.minTestCells ?? null,
    bulkConfirmedTestCells: proposal.bulkConfirmedTestCells ?? null,
    candidatesScoredOnTest: proposal.candidatesScoredOnTest ?? null,
    candidate: figures(candidate, snapshotId, proposal.testLeakage?.candidate, proposal.figures?.candidate),
    champion: champion ? figures(champion, snapshotId, proposal.testLeakage?.champion, proposal.figures?.champion) : null,
    accuracyDifference: proposal.accuracyDifference ?? null,
    pairing: pairingOf(proposal),
    pairingNote: proposal.paired ? null : (proposal.pairing?.note ?? (proposal.pairing ? null : FILED_UNPAIRED)),
    paired: proposal.paired ? { ...proposal.paired, mcnemarTest: testOf(proposal.paired) } : null,
    untestedLabels: proposal.untestedLabels ?? [],
    regressions: (proposal.regressions ?? []).map((r) => ({ ...r, paired: r.paired ? { ...r.paired, mcnemarTest: testOf(r.paired) } : null })),
    acceptedRegression: proposal.acceptedRegression ?? false,
  };
}

/** A status with no paired figures beside it is not PAIRED, whatever it says; none recorded: NOT_RECORDED. */
function pairingOf(proposal: Recorded): EvidencePairing {
  if (proposal.paired) return "PAIRED";
  const status = proposal.pairing?.status;
  if (status === "DIFFERENT_ITEMS" || status === "INCONSISTENT" || status === "NO_TEST_CELLS" || status === "NO_CHAMPION") return status;
  // Filed before INCONSISTENT existed: a damaged record is shown as the warning it is, not as an older evaluation.
  return /keeps no readable call for each TEST cell/.test(proposal.pairing?.note ?? "") ? "INCONSISTENT" : "NOT_RECORDED";
}

/** The test a frozen McNemar p came from: the exact one before mcnemarTest was recorded. */
function testOf(figures: { mcnemarTest?: McNemarTest }): McNemarTest {
  return figures.mcnemarTest === "MID_P" ? "MID_P" : "EXACT";
}

function figures(version: ModelVersion, snapshotId: string, leak: Leak | undefined, recordedFigures: Figures | undefined) {
  const cached = figuresOf(cachedEvaluation(version, snapshotId));
  const f = recordedFigures ?? cached;
  return {
    modelVersion: version,
    accuracy: f.accuracy ?? null,
    macroF1: f.macroF1 ?? null,
    correct: f.correct ?? null,
    // Proposals filed before abstentions were recorded read them from the stored evaluation.
    abstained: f.abstained ?? cached.abstained ?? null,
    perClass: withRecallCi95(f.perClass ?? []),
    leakedPatients: leak?.patients ?? null,
    leakedCells: leak?.cells ?? null,
    trainingDataKnown: typeof leak?.trainingDataKnown === "boolean" ? leak.trainingDataKnown : null,
  };
}
