-- Guards the security review found missing (hand-written; the schema is unchanged).

-- dataset_item was append-only for UPDATE and DELETE but could still be emptied by TRUNCATE,
-- like the other history tables before it.
CREATE TRIGGER dataset_item_no_truncate BEFORE TRUNCATE ON "dataset_item"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

-- What a case, a slide and a cell ARE never changes; only their workflow state and label cache
-- do (status, analysis status, current label, review count; a case's details such as the
-- patient reference are corrected through updateCase, audited with before, after and reason). A slide moved to another case, a
-- cell box moved or its crop swapped would silently change what a signed report refers to.
-- Clinical records are never deleted either: a correction is a new version.
CREATE FUNCTION refuse_identity_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% of the identity of a "%" row refused: clinical records are corrected by new versions, never edited or deleted', TG_OP, TG_TABLE_NAME
    USING ERRCODE = '42501';
END
$$;

CREATE TRIGGER case_identity BEFORE UPDATE ON "case" FOR EACH ROW
  WHEN (OLD."accession" IS DISTINCT FROM NEW."accession" OR OLD."createdById" IS DISTINCT FROM NEW."createdById"
     OR OLD."createdAt" IS DISTINCT FROM NEW."createdAt")
  EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER slide_identity BEFORE UPDATE ON "slide" FOR EACH ROW
  WHEN (OLD."caseId" IS DISTINCT FROM NEW."caseId" OR OLD."imageSha256" IS DISTINCT FROM NEW."imageSha256"
     OR OLD."kind" IS DISTINCT FROM NEW."kind" OR OLD."width" IS DISTINCT FROM NEW."width" OR OLD."height" IS DISTINCT FROM NEW."height"
     OR OLD."uploadedById" IS DISTINCT FROM NEW."uploadedById" OR OLD."createdAt" IS DISTINCT FROM NEW."createdAt")
  EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER cell_identity BEFORE UPDATE ON "cell" FOR EACH ROW
  WHEN (OLD."slideId" IS DISTINCT FROM NEW."slideId" OR OLD."x" IS DISTINCT FROM NEW."x" OR OLD."y" IS DISTINCT FROM NEW."y"
     OR OLD."width" IS DISTINCT FROM NEW."width" OR OLD."height" IS DISTINCT FROM NEW."height"
     OR OLD."cropSha256" IS DISTINCT FROM NEW."cropSha256" OR OLD."detectionScore" IS DISTINCT FROM NEW."detectionScore"
     OR OLD."createdAt" IS DISTINCT FROM NEW."createdAt")
  EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER case_no_delete BEFORE DELETE ON "case" FOR EACH ROW EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER slide_no_delete BEFORE DELETE ON "slide" FOR EACH ROW EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER cell_no_delete BEFORE DELETE ON "cell" FOR EACH ROW EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER case_no_truncate BEFORE TRUNCATE ON "case" FOR EACH STATEMENT EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER slide_no_truncate BEFORE TRUNCATE ON "slide" FOR EACH STATEMENT EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER cell_no_truncate BEFORE TRUNCATE ON "cell" FOR EACH STATEMENT EXECUTE FUNCTION refuse_identity_change();
