-- AlterTable
ALTER TABLE "slide" ADD COLUMN     "voidReason" TEXT,
ADD COLUMN     "voidedAt" TIMESTAMP(3),
ADD COLUMN     "voidedById" UUID;

-- AddForeignKey
ALTER TABLE "slide" ADD CONSTRAINT "slide_voidedById_fkey" FOREIGN KEY ("voidedById") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: an image uploaded into the wrong case (wrong patient, wrong slide, a blurred
-- field) is voided, never deleted: the row, its cells, predictions and reviews stay on record,
-- and the void says who, when and why. A voided image no longer counts (differential, sign-off,
-- snapshots for retraining); the API (voidSlide) does that, under the case lock.

-- 1. A void is whole: when, who and why together, and a reason that says something.
ALTER TABLE "slide" ADD CONSTRAINT "slide_void_complete" CHECK (
  ("voidedAt" IS NULL AND "voidedById" IS NULL AND "voidReason" IS NULL)
  OR ("voidedAt" IS NOT NULL AND "voidedById" IS NOT NULL AND "voidReason" IS NOT NULL AND btrim("voidReason") <> '')
);

-- 2. A void is final, and a voided slide is a closed record: no UPDATE at all once "voidedAt" is
-- set (clearing or rewriting the void would bring its cells back into a count unseen, and nothing
-- else of the slide has reason to move: its analysis is not continued, the worker skips it). The
-- signed-case freeze (slide_signed_frozen) already refuses voiding a slide of a signed case.
CREATE FUNCTION refuse_voided_slide_change() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
BEGIN
  RAISE EXCEPTION '% of voided slide % refused: a void is final (voided at % by %), and a voided image is a closed record', TG_OP, OLD.id, OLD."voidedAt", OLD."voidedById"
    USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER slide_voided_frozen BEFORE UPDATE ON "slide" FOR EACH ROW
  WHEN (OLD."voidedAt" IS NOT NULL)
  EXECUTE FUNCTION refuse_voided_slide_change();

-- 3. Nothing new lands on a voided image: no cells (a detection still running), predictions or
-- review decisions. The platform checks first and says so in words; this is the backstop.
CREATE FUNCTION refuse_row_on_voided_slide() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
DECLARE
  voided uuid;
BEGIN
  IF TG_TABLE_NAME = 'cell' THEN
    SELECT s.id INTO voided FROM "slide" s WHERE s.id = NEW."slideId" AND s."voidedAt" IS NOT NULL;
  ELSE
    SELECT s.id INTO voided FROM "cell" c JOIN "slide" s ON s.id = c."slideId"
      WHERE c.id = NEW."cellId" AND s."voidedAt" IS NOT NULL;
  END IF;
  IF voided IS NOT NULL THEN
    RAISE EXCEPTION 'a new "%" row on voided slide % refused: a voided image takes no new cells, predictions or reviews', TG_TABLE_NAME, voided
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER cell_not_on_voided_slide BEFORE INSERT ON "cell" FOR EACH ROW EXECUTE FUNCTION refuse_row_on_voided_slide();
CREATE TRIGGER prediction_not_on_voided_slide BEFORE INSERT ON "prediction" FOR EACH ROW EXECUTE FUNCTION refuse_row_on_voided_slide();
CREATE TRIGGER review_not_on_voided_slide BEFORE INSERT ON "review" FOR EACH ROW EXECUTE FUNCTION refuse_row_on_voided_slide();
