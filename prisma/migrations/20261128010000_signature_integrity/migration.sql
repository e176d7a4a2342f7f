-- Hand-written (the schema is unchanged): "signed" is tied to a signature in the database itself
-- (a read-only review, 2026-11-28). Before, case_signed_frozen guarded only cases already signed:
-- a bug or a direct write by a role with DML rights could move a case to SIGNED_OUT or AMENDED
-- with no sign_off row, set any report version, or insert a sign_off out of sequence. The
-- platform signs in one transaction under the case lock (signOffCase): it inserts the sign_off
-- (version = reportVersion + 1, superseding the previous version) and then moves the case to
-- SIGNED_OUT (version 1) or AMENDED (version 2 on) with reportVersion = that version; an
-- amendment (amendCase) reopens the case IN_REVIEW and leaves its report version alone.

-- 0. A database that already breaks these rules says where, rather than installing guards over
-- records that contradict them (the platform never wrote such rows; someone did, by hand or
-- through a bug, and the records need a person's judgement, not a migration's).
DO $$
DECLARE problems text;
BEGIN
  SELECT string_agg(problem, '; ') INTO problems FROM (
    SELECT problem FROM (
      SELECT format('case %s is %s at report version %s, with no signature (sign_off) of that version', k.accession, k."status", k."reportVersion") AS problem
        FROM "case" k
        WHERE k."status" IN ('SIGNED_OUT', 'AMENDED')
          AND NOT EXISTS (SELECT 1 FROM "sign_off" s WHERE s."caseId" = k.id AND s."version" = k."reportVersion")
      UNION ALL
      SELECT format('case %s is %s at report version %s (SIGNED_OUT is version 1, AMENDED version 2 on)', k.accession, k."status", k."reportVersion")
        FROM "case" k
        WHERE (k."status" = 'SIGNED_OUT' AND k."reportVersion" <> 1) OR (k."status" = 'AMENDED' AND k."reportVersion" < 2)
      UNION ALL
      SELECT format('case %s is at report version %s, its signatures at version %s', k.accession, k."reportVersion", coalesce(s.last, 0))
        FROM "case" k LEFT JOIN (SELECT "caseId", max("version") AS last FROM "sign_off" GROUP BY "caseId") s ON s."caseId" = k.id
        WHERE k."reportVersion" <> coalesce(s.last, 0)
      UNION ALL
      SELECT format('signature %s (version %s) of case %s does not supersede version %s of the same case', s.id, s."version", k.accession, s."version" - 1)
        FROM "sign_off" s JOIN "case" k ON k.id = s."caseId"
        LEFT JOIN "sign_off" p ON p."caseId" = s."caseId" AND p."version" = s."version" - 1
        WHERE s."version" < 1 OR (s."version" = 1 AND s."supersedesId" IS NOT NULL) OR (s."version" > 1 AND s."supersedesId" IS DISTINCT FROM p.id)
      UNION ALL
      SELECT format('signature %s (version %s) of case %s has a content hash that is not 64 lowercase hex digits', s.id, s."version", k.accession)
        FROM "sign_off" s JOIN "case" k ON k.id = s."caseId"
        WHERE s."contentSha256" !~ '^[0-9a-f]{64}$'
      UNION ALL
      SELECT format('cell %s has a negative review count (%s)', c.id, c."reviewCount") FROM "cell" c WHERE c."reviewCount" < 0
    ) found
    LIMIT 10
  ) first;
  IF problems IS NOT NULL THEN
    RAISE EXCEPTION 'signature_integrity not applied: the database already holds signed cases or signatures that break its rules (first 10: %); nothing was changed. Find out how they were written before deciding what the record should say', problems;
  END IF;
END $$;

-- 1. A signature (sign_off) comes in sequence. Its version is 1 for a case's first report and
-- then the next one: 1 + the highest version of that case, no gap. Version 1 supersedes nothing;
-- version n supersedes version n - 1 of the same case, and (supersedesId is unique) nothing is
-- superseded twice. A version already taken is left to the unique key (caseId, version), whose
-- violation signOffCase reports as "signed by someone else meanwhile". The content hash is a
-- sha256 in lowercase hex, as signOffCase writes it and verifySignOff compares it. Sign-offs
-- were already append-only (sign_off_append_only, sign_off_no_truncate: no UPDATE, DELETE or
-- TRUNCATE), so what is checked at the insert stays true.
ALTER TABLE "sign_off" ADD CONSTRAINT "sign_off_version_from_1" CHECK ("version" >= 1);
ALTER TABLE "sign_off" ADD CONSTRAINT "sign_off_first_supersedes_nothing" CHECK (("version" = 1) = ("supersedesId" IS NULL));
ALTER TABLE "sign_off" ADD CONSTRAINT "sign_off_content_sha256_hex" CHECK ("contentSha256" ~ '^[0-9a-f]{64}$');

CREATE FUNCTION sign_off_in_sequence() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
DECLARE
  accession text;
  last_version integer;
  previous uuid;
BEGIN
  SELECT k.accession INTO accession FROM "case" k WHERE k.id = NEW."caseId";
  SELECT max(s."version") INTO last_version FROM "sign_off" s WHERE s."caseId" = NEW."caseId";
  IF NEW."version" IS NULL OR NEW."version" < 1 OR NEW."version" > coalesce(last_version, 0) + 1 THEN
    RAISE EXCEPTION 'signature (sign_off) version % of case % refused: out of sequence, the next version of its report is % (signatures are numbered 1, 2, 3... per case, with no gap)',
      NEW."version", coalesce(accession, NEW."caseId"::text), coalesce(last_version, 0) + 1
      USING ERRCODE = '42501';
  END IF;
  IF NEW."version" = 1 THEN
    IF NEW."supersedesId" IS NOT NULL THEN
      RAISE EXCEPTION 'signature (sign_off) version 1 of case % refused: a first report supersedes nothing, yet it names sign_off % (supersedesId must be null)',
        coalesce(accession, NEW."caseId"::text), NEW."supersedesId"
        USING ERRCODE = '42501';
    END IF;
  ELSE
    SELECT s.id INTO previous FROM "sign_off" s WHERE s."caseId" = NEW."caseId" AND s."version" = NEW."version" - 1;
    IF NEW."supersedesId" IS DISTINCT FROM previous THEN
      RAISE EXCEPTION 'signature (sign_off) version % of case % refused: it must supersede version % of the same case (sign_off %), not %',
        NEW."version", coalesce(accession, NEW."caseId"::text), NEW."version" - 1, previous, coalesce(NEW."supersedesId"::text, 'nothing')
        USING ERRCODE = '42501';
    END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER sign_off_in_sequence BEFORE INSERT ON "sign_off" FOR EACH ROW EXECUTE FUNCTION sign_off_in_sequence();

-- 2. A case is signed only with its signature, and its report version moves only with one.
-- A case starts unsigned at report version 0. A move INTO SIGNED_OUT or AMENDED (from any other
-- status) raises reportVersion by exactly 1, to 1 for SIGNED_OUT and to 2 or more for AMENDED,
-- and needs the sign_off of that case and version to exist already: signOffCase inserts it
-- before it updates the case, in the same transaction (keep that order: the check is immediate).
-- Any other update leaves reportVersion as it is (never lowered, never raised without a
-- signature), IN_REVIEW included. A signed case's own changes are case_signed_frozen's.
CREATE FUNCTION case_signed_with_signature() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    RAISE EXCEPTION 'a new case % with status % at report version % refused: a case starts unsigned at report version 0 and is signed only with a sign-off',
      NEW.accession, NEW."status", NEW."reportVersion"
      USING ERRCODE = '42501';
  END IF;
  IF NEW."status" IN ('SIGNED_OUT', 'AMENDED') AND OLD."status" NOT IN ('SIGNED_OUT', 'AMENDED') THEN
    IF NEW."reportVersion" <> OLD."reportVersion" + 1 THEN
      RAISE EXCEPTION 'signing case % as % at report version % refused: a signature raises the report version by exactly one (from % to %)',
        NEW.accession, NEW."status", NEW."reportVersion", OLD."reportVersion", OLD."reportVersion" + 1
        USING ERRCODE = '42501';
    END IF;
    IF NEW."status" = 'SIGNED_OUT' AND NEW."reportVersion" <> 1 THEN
      RAISE EXCEPTION 'signing case % as SIGNED_OUT at report version % refused: SIGNED_OUT is the first report (version 1); a later version is an amendment, signed AMENDED',
        NEW.accession, NEW."reportVersion"
        USING ERRCODE = '42501';
    END IF;
    IF NEW."status" = 'AMENDED' AND NEW."reportVersion" < 2 THEN
      RAISE EXCEPTION 'signing case % as AMENDED at report version % refused: AMENDED is a signed amendment (version 2 on); the first report is signed SIGNED_OUT',
        NEW.accession, NEW."reportVersion"
        USING ERRCODE = '42501';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM "sign_off" s WHERE s."caseId" = NEW.id AND s."version" = NEW."reportVersion") THEN
      RAISE EXCEPTION 'signing case % as % at report version % refused: no signature (sign_off) of that case and version; the sign-off is inserted first, in the same transaction',
        NEW.accession, NEW."status", NEW."reportVersion"
        USING ERRCODE = '42501';
    END IF;
  ELSIF NEW."reportVersion" <> OLD."reportVersion" THEN
    RAISE EXCEPTION 'changing the report version of case % from % to % (status % to %) refused: it moves only by one, when a signature signs the case (SIGNED_OUT or AMENDED)',
      NEW.accession, OLD."reportVersion", NEW."reportVersion", OLD."status", NEW."status"
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER case_born_unsigned BEFORE INSERT ON "case" FOR EACH ROW
  WHEN (NEW."status" IN ('SIGNED_OUT', 'AMENDED') OR NEW."reportVersion" <> 0)
  EXECUTE FUNCTION case_signed_with_signature();
CREATE TRIGGER case_signed_with_signature BEFORE UPDATE ON "case" FOR EACH ROW
  WHEN (OLD."status" IS DISTINCT FROM NEW."status" OR OLD."reportVersion" IS DISTINCT FROM NEW."reportVersion")
  EXECUTE FUNCTION case_signed_with_signature();

-- The converse: no signature without its signing. A sign_off inserted and left without the case
-- moving to that version (an IN_REVIEW case with a "version 1" no one signed out) would stand in
-- the way of the real signature and be read as a report. Checked at commit, since signOffCase
-- inserts the sign_off before it moves the case: by then the case's report version has reached
-- the signature's (it can only have got there with it).
CREATE FUNCTION sign_off_signs_its_case() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
DECLARE
  k record;
BEGIN
  SELECT c.accession, c."status", c."reportVersion" INTO k FROM "case" c WHERE c.id = NEW."caseId";
  IF k."reportVersion" < NEW."version" THEN
    RAISE EXCEPTION 'signature (sign_off) version % of case % refused at commit: the case was not signed with it (it is % at report version %); a sign-off is inserted together with the update that signs its case at that version (SIGNED_OUT or AMENDED), in one transaction',
      NEW."version", k.accession, k."status", k."reportVersion"
      USING ERRCODE = '42501';
  END IF;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER sign_off_signs_its_case AFTER INSERT ON "sign_off"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sign_off_signs_its_case();

-- 3. A cell's review count never goes down (nor below 0). Reviews are append-only and each one
-- raises it by one (seq = reviewCount + 1); a signature compares totals of review counts with
-- what the signer's page showed (equal totals mean nothing changed only if counts never fall),
-- and its content binds each cell's decision by that count.
ALTER TABLE "cell" ADD CONSTRAINT "cell_review_count_not_negative" CHECK ("reviewCount" >= 0);
CREATE FUNCTION refuse_review_count_decrease() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'lowering the review count of cell % from % to % refused: reviews are append-only, so a cell''s review count only grows',
    OLD.id, OLD."reviewCount", NEW."reviewCount"
    USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER cell_review_count_grows BEFORE UPDATE ON "cell" FOR EACH ROW
  WHEN (NEW."reviewCount" < OLD."reviewCount")
  EXECUTE FUNCTION refuse_review_count_decrease();
