-- DropIndex
DROP INDEX "case_status_priority_createdAt_idx";

-- CreateIndex
CREATE INDEX "case_status_priority_createdAt_id_idx" ON "case"("status", "priority" DESC, "createdAt", "id");

-- Hand-written: model provenance is a record too (a security review, 2026-11-27). A signed
-- report names model versions by id; training runs, snapshots and promotions say where a model
-- came from and who let it serve. None of them is deleted, and what a model version IS never
-- changes: only its status (champion, archived) and its evaluations (metrics). What a training
-- run was (its snapshot, base model, recipe, who started it) never changes either: leakage
-- figures follow a model's lineage through them. A promotion is immutable once decided.
CREATE TRIGGER model_version_identity BEFORE UPDATE ON "model_version" FOR EACH ROW
  WHEN (OLD."name" IS DISTINCT FROM NEW."name" OR OLD."version" IS DISTINCT FROM NEW."version"
     OR OLD."labels" IS DISTINCT FROM NEW."labels" OR OLD."inputSize" IS DISTINCT FROM NEW."inputSize"
     OR OLD."normalization" IS DISTINCT FROM NEW."normalization" OR OLD."architecture" IS DISTINCT FROM NEW."architecture"
     OR OLD."artifactPath" IS DISTINCT FROM NEW."artifactPath" OR OLD."artifactSha256" IS DISTINCT FROM NEW."artifactSha256"
     OR OLD."folderSha256" IS DISTINCT FROM NEW."folderSha256" OR OLD."parentId" IS DISTINCT FROM NEW."parentId"
     OR OLD."trainingRunId" IS DISTINCT FROM NEW."trainingRunId"
     OR OLD."createdAt" IS DISTINCT FROM NEW."createdAt")
  EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER training_run_identity BEFORE UPDATE ON "training_run" FOR EACH ROW
  WHEN (OLD."snapshotId" IS DISTINCT FROM NEW."snapshotId" OR OLD."baseModelVersionId" IS DISTINCT FROM NEW."baseModelVersionId"
     OR OLD."config" IS DISTINCT FROM NEW."config" OR OLD."startedById" IS DISTINCT FROM NEW."startedById"
     OR OLD."createdAt" IS DISTINCT FROM NEW."createdAt")
  EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER model_promotion_decided BEFORE UPDATE ON "model_promotion" FOR EACH ROW
  WHEN (OLD."state" <> 'PROPOSED'
     OR OLD."modelVersionId" IS DISTINCT FROM NEW."modelVersionId" OR OLD."kind" IS DISTINCT FROM NEW."kind"
     OR OLD."reason" IS DISTINCT FROM NEW."reason" OR OLD."proposedById" IS DISTINCT FROM NEW."proposedById"
     OR OLD."proposedAt" IS DISTINCT FROM NEW."proposedAt" OR OLD."replacesChampionId" IS DISTINCT FROM NEW."replacesChampionId")
  EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER model_version_no_delete BEFORE DELETE ON "model_version" FOR EACH ROW EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER model_promotion_no_delete BEFORE DELETE ON "model_promotion" FOR EACH ROW EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER training_run_no_delete BEFORE DELETE ON "training_run" FOR EACH ROW EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER dataset_snapshot_no_delete BEFORE DELETE ON "dataset_snapshot" FOR EACH ROW EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER model_version_no_truncate BEFORE TRUNCATE ON "model_version" FOR EACH STATEMENT EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER model_promotion_no_truncate BEFORE TRUNCATE ON "model_promotion" FOR EACH STATEMENT EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER training_run_no_truncate BEFORE TRUNCATE ON "training_run" FOR EACH STATEMENT EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER dataset_snapshot_no_truncate BEFORE TRUNCATE ON "dataset_snapshot" FOR EACH STATEMENT EXECUTE FUNCTION refuse_identity_change();
