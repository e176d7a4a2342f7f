-- Guards the database keeps even against a bug in the platform's own code (the application owns
-- the tables of the embedded database, so only triggers stand behind its services).

-- A dataset snapshot is frozen at creation: its labels are the class set the next model is
-- trained on, its counts and content hash what a reader compares. Its items were guarded already.
CREATE TRIGGER dataset_snapshot_immutable BEFORE UPDATE ON "dataset_snapshot" FOR EACH ROW
  EXECUTE FUNCTION refuse_identity_change();

-- A signed case changes only through an amendment, which reopens it (status IN_REVIEW, and
-- nothing else, in one statement): while it is signed, the details its report signed (patient,
-- specimen, counts, priority, product, timepoint) and its report version do not move, not even
-- in the statement that changes its status.
CREATE TRIGGER case_signed_frozen BEFORE UPDATE ON "case" FOR EACH ROW
  WHEN (OLD."status" IN ('SIGNED_OUT', 'AMENDED') AND (
        NEW."status" NOT IN (OLD."status", 'IN_REVIEW')
     OR OLD."patientRef" IS DISTINCT FROM NEW."patientRef" OR OLD."product" IS DISTINCT FROM NEW."product"
     OR OLD."timepoint" IS DISTINCT FROM NEW."timepoint" OR OLD."specimen" IS DISTINCT FROM NEW."specimen"
     OR OLD."collectedAt" IS DISTINCT FROM NEW."collectedAt" OR OLD."wbcCount" IS DISTINCT FROM NEW."wbcCount"
     OR OLD."priority" IS DISTINCT FROM NEW."priority" OR OLD."reportVersion" IS DISTINCT FROM NEW."reportVersion"))
  EXECUTE FUNCTION refuse_identity_change();

-- Nor does a signed case get new cells or new human decisions: a worker still analysing an image
-- of it, or a review racing the signature, would change the case under its signed report.
CREATE FUNCTION refuse_row_on_signed_case() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  signed text;
BEGIN
  IF TG_TABLE_NAME = 'review' THEN
    SELECT k.accession INTO signed FROM "cell" c JOIN "slide" s ON s.id = c."slideId" JOIN "case" k ON k.id = s."caseId"
      WHERE c.id = NEW."cellId" AND k."status" IN ('SIGNED_OUT', 'AMENDED');
  ELSE
    SELECT k.accession INTO signed FROM "slide" s JOIN "case" k ON k.id = s."caseId"
      WHERE s.id = NEW."slideId" AND k."status" IN ('SIGNED_OUT', 'AMENDED');
  END IF;
  IF signed IS NOT NULL THEN
    RAISE EXCEPTION 'a new "%" row on signed case % refused: a signed case changes only through an amendment', TG_TABLE_NAME, signed
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER review_not_on_signed_case BEFORE INSERT ON "review" FOR EACH ROW EXECUTE FUNCTION refuse_row_on_signed_case();
CREATE TRIGGER cell_not_on_signed_case BEFORE INSERT ON "cell" FOR EACH ROW EXECUTE FUNCTION refuse_row_on_signed_case();
