// Every GraphQL operation the dashboard sends, in one place: the API's schema
// (apps/api/src/modules/*/schema.graphql) is the contract these are written against.

export const CASES = /* GraphQL */ `
  query Cases($filter: CaseFilter, $first: Int, $after: String) {
    cases(filter: $filter, first: $first, after: $after) {
      nodes { id accession status priority product timepoint createdAt updatedAt cellCount reviewedCount failedImageCount reportVersion }
      pageInfo { endCursor hasNextPage }
    }
  }
`;

export const CASE_STATUS_COUNTS = /* GraphQL */ `
  query CaseStatusCounts($filter: CaseFilter) {
    caseStatusCounts(filter: $filter) { status count }
  }
`;

export const UPDATE_CASE = /* GraphQL */ `
  mutation UpdateCase($input: UpdateCaseInput!) {
    updateCase(input: $input) { id priority product timepoint specimen collectedAt wbcCount updatedAt }
  }
`;

export const CREATE_CASE = /* GraphQL */ `
  mutation CreateCase($input: CreateCaseInput!) {
    createCase(input: $input) { id accession status priority }
  }
`;

export const CASE_PROGRESS = /* GraphQL */ `
  query CaseProgress($caseId: ID!) {
    caseAnalysisProgress(caseId: $caseId) {
      caseId caseStatus slideCount doneCount failedCount progress
      slides { slideId status error progress cellCount predictedCellCount job { step status error attempts maxAttempts } }
    }
  }
`;

const CELL_FIELDS = /* GraphQL */ `
  id slideId x y width height cropSha256 currentLabel reviewCount humanDecided withdrawnInVersion
  prediction { label confidence abstained modelVersionId modelVersion { id name version isChampion withdrawn } }
  reviews { seq action label previousLabel reason reasonWithheld reportVersion createdAt reviewer { login displayName } }
`;

export const CASE_HEADER = /* GraphQL */ `
  query CaseHeader($id: ID!) {
    case(id: $id) {
      id accession patientRef status priority product timepoint specimen collectedAt wbcCount reportVersion createdAt updatedAt cellCount reviewedCount
      amendmentStartedAt amendmentStartedBy { login displayName } amendmentReason
      differential { cartAssessed screenedClasses }
      currentSignOff { version comment retracted }
      slides { id kind imageSha256 width height originalName analysisStatus analysisError createdAt updatedAt voidedAt voidReason voidedBy { login displayName } }
    }
  }
`;

export const VOID_SLIDE = /* GraphQL */ `
  mutation VoidSlide($slideId: ID!, $reason: String!, $expectedUpdatedAt: DateTime!) {
    voidSlide(slideId: $slideId, reason: $reason, expectedUpdatedAt: $expectedUpdatedAt) { id voidedAt }
  }
`;

export const CASE_CELLS = /* GraphQL */ `
  query CaseCells($id: ID!, $first: Int, $after: String) {
    case(id: $id) {
      id
      cells(first: $first, after: $after) {
        nodes { ${CELL_FIELDS} }
        pageInfo { endCursor hasNextPage }
        totalCount
      }
    }
  }
`;

/**
 * One cell's whole record for the review page's history panel: every AI call (CASE_CELLS has the
 * latest only) and every decision, fetched for the selected cell alone rather than for all cells.
 */
export const CELL_HISTORY = /* GraphQL */ `
  query CellHistory($id: ID!) {
    cell(id: $id) {
      id
      predictions { id label confidence abstained createdAt modelVersionId modelVersion { id name version isChampion withdrawn } }
      reviews { seq action label previousLabel reason reasonWithheld reportVersion createdAt reviewer { login displayName } }
    }
  }
`;

/**
 * What the review page needs besides the case: the model label sets plus unidentified/artifact,
 * the confidence under which AI calls are flagged, and the labels never confirmed in bulk (CAR-T)
 * (readable by every case reader).
 */
export const REVIEW_SETTINGS = /* GraphQL */ `
  query ReviewSettings { reviewLabels reviewPolicy { bulkMinConfidence bulkExcludedLabels } }
`;

export const RECLASSIFY_CELL = /* GraphQL */ `
  mutation ReclassifyCell($input: ReclassifyCellInput!) {
    reclassifyCell(input: $input) { ${CELL_FIELDS} }
  }
`;

export const CONFIRM_CELLS = /* GraphQL */ `
  mutation ConfirmCells($cells: [ConfirmCellInput!]!, $asGroup: Boolean) {
    confirmCells(cells: $cells, asGroup: $asGroup) { ${CELL_FIELDS} }
  }
`;

export const SIGN_OFF = /* GraphQL */ `
  mutation SignOff($input: SignOffCaseInput!) {
    signOffCase(input: $input) { id version signedAt }
  }
`;

/** A case read back after a sign-off whose answer was lost (review/signatureOutcome.ts). */
export const CASE_SIGNATURE = /* GraphQL */ `
  query CaseSignature($id: ID!) {
    case(id: $id) { reportVersion currentSignOff { version signer { login } } }
  }
`;

export const AMEND_CASE = /* GraphQL */ `
  mutation AmendCase($input: AmendCaseInput!) {
    amendCase(input: $input) { id status reportVersion }
  }
`;

export const REPORT = /* GraphQL */ `
  query Report($id: ID!) {
    case(id: $id) {
      id accession status priority product timepoint reportVersion amendmentStartedAt
      signOffs { id version signerName signer { login } meaning signedAt content contentSha256 amendmentReason supersedes { id version } withheld }
    }
  }
`;

/** Whether the API still accepts a session's token (the session-ended page asks before ending it). */
export const ME = /* GraphQL */ `
  query Me { me { id } }
`;

/** Revokes the session's API token (NextAuth's signOut event): a copied cookie stops working. */
export const LOGOUT = /* GraphQL */ `
  mutation Logout { logout }
`;

/** Re-checks a signature: content hash, and the shown columns against the signed content. */
export const VERIFY_SIGN_OFF = /* GraphQL */ `
  query VerifySignOff($id: ID!) {
    verifySignOff(id: $id) { ok mismatches }
  }
`;

export const AUDIT_TRAIL = /* GraphQL */ `
  query AuditTrail($filter: AuditFilter, $first: Int, $after: String) {
    auditTrail(filter: $filter, first: $first, after: $after) {
      nodes { seq actorLogin action entityType entityId before after reason reasonWithheld at hash prevHash }
      pageInfo { endCursor hasNextPage }
    }
  }
`;

/** One node of AUDIT_TRAIL, as the audit page and the CSV export read it. */
export interface AuditEventRow {
  seq: string;
  actorLogin: string;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
  reason: string | null;
  /** The event has a reason the API withholds from the reader's role (it may name a patient): reason is null, not absent. */
  reasonWithheld: boolean;
  at: string;
  /** Null for roles that may not see patient references (a hash over one would let it be guessed). */
  hash: string | null;
  prevHash: string | null;
}

export const VERIFY_AUDIT = /* GraphQL */ `
  query VerifyAudit($full: Boolean) { verifyAuditTrail(full: $full) {
    ok checked firstBrokenSeq problem full fullyVerifiedThrough fullyVerifiedAt externalAnchorsChecked
    anchorRecency { checked anchorMinutes intervalDeclared graceMinutes lastWrittenAt unanchoredFromSeq unanchoredToSeq unanchoredSince stoppedCleanly writerSilent writtenInFuture intervalTooLong eventsOverdue overdue problem }
  } }
`;

// Polled every few seconds while the champion's re-prediction is queued or running: only the
// champion's line, not MODELS (every version's metrics, prediction counts and promotions).
export const CHAMPION_REPREDICTION = /* GraphQL */ `
  query ChampionReprediction {
    championModel {
      id name version
      reprediction { status progress error finishedAt cellsLeft cellsPredicted waitingForWorkerSince workerSeenAt analysesAhead stalledSince rerunnable }
    }
  }
`;

export const MODELS = /* GraphQL */ `
  query Models {
    modelVersions(first: 50) {
      nodes {
        id name version status labels inputSize metrics artifactSha256 predictionCount createdAt
        testSet { snapshotId cells snapshot { id name } }
        parent { id name version }
        trainingRun { id }
        promotions { id kind state reason proposedAt decidedAt decisionNote proposedBy { displayName } decidedBy { displayName } }
      }
    }
    modelPromotions(first: 50) {
      nodes {
        id kind state reason proposedAt decidedAt decisionNote
        modelVersion { id name version status }
        proposedBy { id displayName } decidedBy { displayName }
        lostClasses
        evidence {
          snapshotId snapshot { name } testCells minTestCells bulkConfirmedTestCells candidatesScoredOnTest untestedLabels acceptedRegression
          accuracyDifference { difference lower upper }
          pairing pairingNote paired { cells bothRight candidateOnlyRight championOnlyRight bothWrong mcnemarP mcnemarTest difference lower upper }
          regressions { measure label candidate champion support paired { candidateOnlyRight championOnlyRight mcnemarP mcnemarTest } }
          candidate { modelVersion { name version } accuracy macroF1 correct abstained leakedPatients leakedCells trainingDataKnown perClass { label recall support recallCi95 } }
          champion { modelVersion { name version } accuracy macroF1 correct abstained leakedPatients leakedCells trainingDataKnown perClass { label recall support recallCi95 } }
        }
      }
    }
    datasetSnapshots(first: 20) { nodes { id name itemCount createdAt } }
  }
`;

export const COMPARE_MODELS = /* GraphQL */ `
  query Compare($a: ID!, $b: ID, $snapshotId: ID!) {
    compareModels(a: $a, b: $b, snapshotId: $snapshotId) {
      testCount relabelledTestCells bulkConfirmedTestCells untestedLabels
      snapshot { id name }
      a { accuracy macroF1 abstained leakedPatients leakedCells trainingDataKnown confusion perClass modelVersion { id name version } }
      b { accuracy macroF1 abstained leakedPatients leakedCells trainingDataKnown confusion perClass modelVersion { id name version } }
    }
  }
`;

export const PROPOSE_PROMOTION = /* GraphQL */ `
  mutation Propose($modelVersionId: ID!, $reason: String!, $acceptRegression: Boolean) {
    proposePromotion(modelVersionId: $modelVersionId, reason: $reason, acceptRegression: $acceptRegression) { id state }
  }
`;

export const DECIDE_PROMOTION = /* GraphQL */ `
  mutation Decide($id: ID!, $approve: Boolean!, $note: String) {
    decidePromotion(id: $id, approve: $approve, note: $note) { id state }
  }
`;

export const PROPOSE_ROLLBACK = /* GraphQL */ `
  mutation Rollback($reason: String!, $modelVersionId: ID) {
    proposeRollback(reason: $reason, modelVersionId: $modelVersionId) { id state }
  }
`;

export const RERUN_REPREDICTION = /* GraphQL */ `
  mutation RerunReprediction($modelVersionId: ID!, $reason: String!) {
    rerunReprediction(modelVersionId: $modelVersionId, reason: $reason) { id reprediction { status } }
  }
`;

// No `log` here: the page polls these every second while a run is active, and a log holds up to
// 200,000 characters; the run shown fetches its own (TRAINING_RUN_LOG).
const RUN_FIELDS = /* GraphQL */ `
  id status progress config metrics error backend cancelRequested createdAt startedAt finishedAt waitingForWorkerSince queuedBehind stalledSince
  snapshot { id name itemCount }
  baseModel { id name version }
  producedModel { id name version status metrics }
`;

export const TRAINING = /* GraphQL */ `
  query Training {
    championModel { id name version metrics }
    datasetSnapshots(first: 20) { nodes { id name itemCount contentHash labels splitCounts { train val test } patientCounts { train val test } heldOutCells casesWithoutPatient casesLeftOutWithoutPatient cellsLeftOutWithoutPatient relabelledSince labelCounts createdAt } }
    trainingRuns(first: 20) { nodes { ${RUN_FIELDS} } }
  }
`;

/** The log of the run shown on the retraining page. */
export const TRAINING_RUN_LOG = /* GraphQL */ `
  query TrainingRunLog($id: ID!) { trainingRun(id: $id) { id log } }
`;

export const CREATE_SNAPSHOT = /* GraphQL */ `
  mutation Snapshot($name: String!) { createDatasetSnapshot(name: $name) { id name itemCount reused } }
`;

export const START_RUN = /* GraphQL */ `
  mutation StartRun($snapshotId: ID!, $config: JSON) { startTrainingRun(snapshotId: $snapshotId, config: $config) { id status } }
`;

export const CANCEL_RUN = /* GraphQL */ `
  mutation CancelRun($id: ID!, $reason: String!) { cancelTrainingRun(id: $id, reason: $reason) { id status cancelRequested } }
`;

export const USERS = /* GraphQL */ `
  query Users($after: String) {
    users(first: 200, after: $after, includeDisabled: true) {
      nodes { id login displayName role disabled lockedUntil mustChangePassword createdAt }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const CREATE_USER = /* GraphQL */ `
  mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id login } }
`;

export const SET_USER_DISABLED = /* GraphQL */ `
  mutation SetUserDisabled($id: ID!, $disabled: Boolean!, $reason: String!) { setUserDisabled(id: $id, disabled: $disabled, reason: $reason) { id disabled } }
`;

export const CHANGE_USER_ROLE = /* GraphQL */ `
  mutation ChangeUserRole($id: ID!, $role: Role!, $reason: String!) { changeUserRole(id: $id, role: $role, reason: $reason) { id role } }
`;

export const UNLOCK_USER = /* GraphQL */ `
  mutation UnlockUser($id: ID!, $reason: String!) { unlockUser(id: $id, reason: $reason) { id lockedUntil } }
`;

export const RESET_PASSWORD = /* GraphQL */ `
  mutation ResetPassword($id: ID!, $newPassword: String!, $reason: String!) { resetUserPassword(id: $id, newPassword: $newPassword, reason: $reason) { id } }
`;

export const MODEL_NAME = /* GraphQL */ `
  query ModelName($id: ID!) { modelVersion(id: $id) { id name version } }
`;

/** Only the expiry comes back: the new API token stays on the server (the app signs out after). */
export const CHANGE_MY_PASSWORD = /* GraphQL */ `
  mutation ChangeMyPassword($currentPassword: String!, $newPassword: String!) {
    changeMyPassword(currentPassword: $currentPassword, newPassword: $newPassword) { mustChangePassword }
  }
`;
