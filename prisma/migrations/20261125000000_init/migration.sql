-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('ADMIN', 'HEMATOLOGIST', 'TECHNICIAN', 'DATA_SCIENTIST', 'AUDITOR');

-- CreateEnum
CREATE TYPE "CaseStatus" AS ENUM ('RECEIVED', 'ANALYZING', 'IN_REVIEW', 'SIGNED_OUT', 'AMENDED');

-- CreateEnum
CREATE TYPE "Priority" AS ENUM ('ROUTINE', 'URGENT', 'STAT');

-- CreateEnum
CREATE TYPE "SlideKind" AS ENUM ('FIELD', 'CROP');

-- CreateEnum
CREATE TYPE "AnalysisStatus" AS ENUM ('PENDING', 'RUNNING', 'DONE', 'FAILED');

-- CreateEnum
CREATE TYPE "ReviewAction" AS ENUM ('CONFIRM', 'RECLASSIFY');

-- CreateEnum
CREATE TYPE "ModelStatus" AS ENUM ('CANDIDATE', 'CHAMPION', 'ARCHIVED');

-- CreateEnum
CREATE TYPE "PromotionKind" AS ENUM ('PROMOTE', 'ROLLBACK');

-- CreateEnum
CREATE TYPE "PromotionState" AS ENUM ('PROPOSED', 'APPROVED', 'REJECTED');

-- CreateEnum
CREATE TYPE "DatasetSplit" AS ENUM ('TRAIN', 'VAL', 'TEST');

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateTable
CREATE TABLE "user" (
    "id" UUID NOT NULL,
    "login" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "failedLogins" INTEGER NOT NULL DEFAULT 0,
    "lockedUntil" TIMESTAMP(3),
    "passwordChangedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "case" (
    "id" UUID NOT NULL,
    "accession" TEXT NOT NULL,
    "patientRef" TEXT,
    "product" TEXT,
    "timepoint" TEXT,
    "status" "CaseStatus" NOT NULL DEFAULT 'RECEIVED',
    "priority" "Priority" NOT NULL DEFAULT 'ROUTINE',
    "reportVersion" INTEGER NOT NULL DEFAULT 0,
    "createdById" UUID NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "case_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "slide" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "kind" "SlideKind" NOT NULL DEFAULT 'FIELD',
    "imageSha256" TEXT NOT NULL,
    "mimeType" TEXT NOT NULL,
    "byteSize" INTEGER NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "stain" TEXT,
    "magnification" INTEGER,
    "acquiredAt" TIMESTAMP(3),
    "analysisStatus" "AnalysisStatus" NOT NULL DEFAULT 'PENDING',
    "analysisError" TEXT,
    "uploadedById" UUID NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "slide_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cell" (
    "id" UUID NOT NULL,
    "slideId" UUID NOT NULL,
    "x" INTEGER NOT NULL,
    "y" INTEGER NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "detectionScore" DOUBLE PRECISION,
    "cropSha256" TEXT NOT NULL,
    "currentLabel" TEXT,
    "reviewCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cell_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_version" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "labels" TEXT[],
    "inputSize" INTEGER NOT NULL,
    "normalization" JSONB NOT NULL,
    "architecture" JSONB NOT NULL,
    "metrics" JSONB NOT NULL,
    "artifactPath" TEXT NOT NULL,
    "artifactSha256" TEXT NOT NULL,
    "parentId" UUID,
    "status" "ModelStatus" NOT NULL DEFAULT 'CANDIDATE',
    "trainingRunId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_promotion" (
    "id" UUID NOT NULL,
    "modelVersionId" UUID NOT NULL,
    "kind" "PromotionKind" NOT NULL,
    "state" "PromotionState" NOT NULL DEFAULT 'PROPOSED',
    "reason" TEXT NOT NULL,
    "proposedById" UUID NOT NULL,
    "proposedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedById" UUID,
    "decidedAt" TIMESTAMP(3),
    "decisionNote" TEXT,

    CONSTRAINT "model_promotion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "prediction" (
    "id" UUID NOT NULL,
    "cellId" UUID NOT NULL,
    "modelVersionId" UUID NOT NULL,
    "label" TEXT NOT NULL,
    "probabilities" JSONB NOT NULL,
    "confidence" DOUBLE PRECISION NOT NULL,
    "abstained" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "prediction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "review" (
    "id" UUID NOT NULL,
    "cellId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "reviewerId" UUID NOT NULL,
    "action" "ReviewAction" NOT NULL,
    "label" TEXT NOT NULL,
    "previousLabel" TEXT,
    "reason" TEXT,
    "reportVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "review_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sign_off" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "signerId" UUID NOT NULL,
    "signerName" TEXT NOT NULL,
    "meaning" TEXT NOT NULL,
    "signedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "content" JSONB NOT NULL,
    "contentSha256" TEXT NOT NULL,
    "supersedesId" UUID,
    "amendmentReason" TEXT,

    CONSTRAINT "sign_off_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_event" (
    "seq" BIGINT NOT NULL DEFAULT 0,
    "actorId" UUID,
    "actorLogin" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "entityId" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,
    "reason" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "prevHash" TEXT NOT NULL DEFAULT '',
    "hash" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "dataset_snapshot" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "labels" TEXT[],
    "itemCount" INTEGER NOT NULL,
    "contentHash" TEXT NOT NULL,
    "createdById" UUID NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dataset_snapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dataset_item" (
    "id" UUID NOT NULL,
    "snapshotId" UUID NOT NULL,
    "cellId" UUID NOT NULL,
    "label" TEXT NOT NULL,
    "split" "DatasetSplit" NOT NULL,
    "cropSha256" TEXT NOT NULL,

    CONSTRAINT "dataset_item_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training_run" (
    "id" UUID NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'QUEUED',
    "snapshotId" UUID NOT NULL,
    "baseModelVersionId" UUID,
    "config" JSONB NOT NULL,
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "metrics" JSONB,
    "log" TEXT NOT NULL DEFAULT '',
    "error" TEXT,
    "backend" TEXT,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "startedById" UUID NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "training_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job" (
    "id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "dedupeKey" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL DEFAULT 3,
    "runAfter" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lockedBy" TEXT,
    "lockedAt" TIMESTAMP(3),
    "heartbeatAt" TIMESTAMP(3),
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "step" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "job_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "user_login_key" ON "user"("login");

-- CreateIndex
CREATE UNIQUE INDEX "case_accession_key" ON "case"("accession");

-- CreateIndex
CREATE INDEX "case_status_priority_createdAt_idx" ON "case"("status", "priority", "createdAt");

-- CreateIndex
CREATE INDEX "slide_caseId_idx" ON "slide"("caseId");

-- CreateIndex
CREATE UNIQUE INDEX "slide_caseId_imageSha256_key" ON "slide"("caseId", "imageSha256");

-- CreateIndex
CREATE INDEX "cell_slideId_idx" ON "cell"("slideId");

-- CreateIndex
CREATE UNIQUE INDEX "cell_slideId_x_y_width_height_key" ON "cell"("slideId", "x", "y", "width", "height");

-- CreateIndex
CREATE UNIQUE INDEX "model_version_trainingRunId_key" ON "model_version"("trainingRunId");

-- CreateIndex
CREATE UNIQUE INDEX "model_version_name_version_key" ON "model_version"("name", "version");

-- CreateIndex
CREATE INDEX "model_promotion_state_idx" ON "model_promotion"("state");

-- CreateIndex
CREATE UNIQUE INDEX "prediction_cellId_modelVersionId_key" ON "prediction"("cellId", "modelVersionId");

-- CreateIndex
CREATE INDEX "review_reviewerId_idx" ON "review"("reviewerId");

-- CreateIndex
CREATE UNIQUE INDEX "review_cellId_seq_key" ON "review"("cellId", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "sign_off_supersedesId_key" ON "sign_off"("supersedesId");

-- CreateIndex
CREATE UNIQUE INDEX "sign_off_caseId_version_key" ON "sign_off"("caseId", "version");

-- CreateIndex
CREATE INDEX "audit_event_entityType_entityId_idx" ON "audit_event"("entityType", "entityId");

-- CreateIndex
CREATE INDEX "audit_event_actorId_idx" ON "audit_event"("actorId");

-- CreateIndex
CREATE INDEX "audit_event_action_idx" ON "audit_event"("action");

-- CreateIndex
CREATE INDEX "audit_event_at_idx" ON "audit_event"("at");

-- CreateIndex
CREATE INDEX "dataset_item_snapshotId_split_idx" ON "dataset_item"("snapshotId", "split");

-- CreateIndex
CREATE UNIQUE INDEX "dataset_item_snapshotId_cellId_key" ON "dataset_item"("snapshotId", "cellId");

-- CreateIndex
CREATE UNIQUE INDEX "job_dedupeKey_key" ON "job"("dedupeKey");

-- CreateIndex
CREATE INDEX "job_status_runAfter_idx" ON "job"("status", "runAfter");

-- AddForeignKey
ALTER TABLE "case" ADD CONSTRAINT "case_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "slide" ADD CONSTRAINT "slide_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "slide" ADD CONSTRAINT "slide_uploadedById_fkey" FOREIGN KEY ("uploadedById") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cell" ADD CONSTRAINT "cell_slideId_fkey" FOREIGN KEY ("slideId") REFERENCES "slide"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_version" ADD CONSTRAINT "model_version_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "model_version"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_version" ADD CONSTRAINT "model_version_trainingRunId_fkey" FOREIGN KEY ("trainingRunId") REFERENCES "training_run"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_promotion" ADD CONSTRAINT "model_promotion_modelVersionId_fkey" FOREIGN KEY ("modelVersionId") REFERENCES "model_version"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_promotion" ADD CONSTRAINT "model_promotion_proposedById_fkey" FOREIGN KEY ("proposedById") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_promotion" ADD CONSTRAINT "model_promotion_decidedById_fkey" FOREIGN KEY ("decidedById") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prediction" ADD CONSTRAINT "prediction_cellId_fkey" FOREIGN KEY ("cellId") REFERENCES "cell"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prediction" ADD CONSTRAINT "prediction_modelVersionId_fkey" FOREIGN KEY ("modelVersionId") REFERENCES "model_version"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "review" ADD CONSTRAINT "review_cellId_fkey" FOREIGN KEY ("cellId") REFERENCES "cell"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "review" ADD CONSTRAINT "review_reviewerId_fkey" FOREIGN KEY ("reviewerId") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sign_off" ADD CONSTRAINT "sign_off_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sign_off" ADD CONSTRAINT "sign_off_signerId_fkey" FOREIGN KEY ("signerId") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sign_off" ADD CONSTRAINT "sign_off_supersedesId_fkey" FOREIGN KEY ("supersedesId") REFERENCES "sign_off"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_event" ADD CONSTRAINT "audit_event_actorId_fkey" FOREIGN KEY ("actorId") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_snapshot" ADD CONSTRAINT "dataset_snapshot_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_item" ADD CONSTRAINT "dataset_item_snapshotId_fkey" FOREIGN KEY ("snapshotId") REFERENCES "dataset_snapshot"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_item" ADD CONSTRAINT "dataset_item_cellId_fkey" FOREIGN KEY ("cellId") REFERENCES "cell"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training_run" ADD CONSTRAINT "training_run_snapshotId_fkey" FOREIGN KEY ("snapshotId") REFERENCES "dataset_snapshot"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training_run" ADD CONSTRAINT "training_run_baseModelVersionId_fkey" FOREIGN KEY ("baseModelVersionId") REFERENCES "model_version"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training_run" ADD CONSTRAINT "training_run_startedById_fkey" FOREIGN KEY ("startedById") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- ---------------------------------------------------------------------------
-- Hand-written part: rules the database itself enforces, so that no code path
-- (a bug, a script, a console session) can rewrite clinical history.
-- ---------------------------------------------------------------------------

-- Append-only records (21 CFR 11.10(e): changes must not obscure previously recorded
-- information). A correction is a new row; UPDATE, DELETE and TRUNCATE are refused.
CREATE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on "%" refused: these records are append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = '42501';
END
$$;

CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON "audit_event"
  FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON "audit_event"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER prediction_append_only BEFORE UPDATE OR DELETE ON "prediction"
  FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER prediction_no_truncate BEFORE TRUNCATE ON "prediction"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER review_append_only BEFORE UPDATE OR DELETE ON "review"
  FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER review_no_truncate BEFORE TRUNCATE ON "review"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER sign_off_append_only BEFORE UPDATE OR DELETE ON "sign_off"
  FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER sign_off_no_truncate BEFORE TRUNCATE ON "sign_off"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER dataset_item_append_only BEFORE UPDATE OR DELETE ON "dataset_item"
  FOR EACH ROW EXECUTE FUNCTION refuse_history_change();

-- The audit hash chain. Each event's hash covers its own fields and the previous event's
-- hash, so editing, deleting or reordering any row breaks every link after it.
-- jsonb_build_array(...)::text is the canonical encoding: unambiguous (no separator that a
-- field could contain) and stable (jsonb normalises key order and spacing). "at" is a
-- timestamp without time zone holding UTC (Prisma's convention), so to_char does not depend
-- on the session's TimeZone.
CREATE FUNCTION audit_event_hash(e "audit_event") RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(jsonb_build_array(
    e."seq", e."prevHash", e."actorId", e."actorLogin", e."action", e."entityType",
    e."entityId", e."before", e."after", e."reason",
    to_char(e."at", 'YYYY-MM-DD"T"HH24:MI:SS.US')
  )::text, 'UTF8')), 'hex')
$$;

-- seq, prevHash and hash are assigned here, under a transaction-scoped lock, so events are
-- chained in commit order with no gaps whatever the application sends.
CREATE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
  last_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(7243001);
  SELECT "seq", "hash" INTO last_seq, last_hash FROM "audit_event" ORDER BY "seq" DESC LIMIT 1;
  NEW."seq" := coalesce(last_seq, 0) + 1;
  NEW."prevHash" := coalesce(last_hash, repeat('0', 64));
  NEW."hash" := audit_event_hash(NEW);
  RETURN NEW;
END
$$;

CREATE TRIGGER audit_event_chain BEFORE INSERT ON "audit_event"
  FOR EACH ROW EXECUTE FUNCTION audit_event_chain();

-- Walks the chain in order and reports the first broken link, if any.
CREATE FUNCTION audit_verify()
RETURNS TABLE ("ok" boolean, "checked" bigint, "firstBrokenSeq" bigint, "problem" text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  e "audit_event";
  expected_seq bigint := 1;
  expected_prev text := repeat('0', 64);
BEGIN
  FOR e IN SELECT * FROM "audit_event" ORDER BY "seq" LOOP
    IF e."seq" <> expected_seq THEN
      RETURN QUERY SELECT false, expected_seq - 1, expected_seq,
        format('event %s is missing (found %s next)', expected_seq, e."seq");
      RETURN;
    END IF;
    IF e."prevHash" <> expected_prev THEN
      RETURN QUERY SELECT false, expected_seq - 1, e."seq",
        format('event %s does not link to the hash of event %s', e."seq", e."seq" - 1);
      RETURN;
    END IF;
    IF e."hash" <> audit_event_hash(e) THEN
      RETURN QUERY SELECT false, expected_seq - 1, e."seq",
        format('event %s was altered after it was written', e."seq");
      RETURN;
    END IF;
    expected_prev := e."hash";
    expected_seq := expected_seq + 1;
  END LOOP;
  RETURN QUERY SELECT true, expected_seq - 1, NULL::bigint, NULL::text;
END
$$;
