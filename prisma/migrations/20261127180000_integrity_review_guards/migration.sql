-- Hand-written (the schema is unchanged): what a data-integrity review (2026-11-27) found the
-- guards still let through, for the platform's own role and for a bug in its code alike.

-- 1. The signed-case freeze, completed. A signed case (SIGNED_OUT or AMENDED) took no new cells or
-- reviews; it now takes no new slides or predictions either, and its slides and cells do not
-- change (analysis status, label cache, review count): what its report signed stays as signed
-- until an amendment reopens the case (status IN_REVIEW), after which they move again. The
-- platform changes none of them while a case is signed: uploads, reviews and re-analyses refuse
-- a signed case, and sign-off waits until no slide is still being analysed.
CREATE OR REPLACE FUNCTION refuse_row_on_signed_case() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  signed text;
BEGIN
  IF TG_TABLE_NAME IN ('review', 'prediction') THEN
    SELECT k.accession INTO signed FROM "cell" c JOIN "slide" s ON s.id = c."slideId" JOIN "case" k ON k.id = s."caseId"
      WHERE c.id = NEW."cellId" AND k."status" IN ('SIGNED_OUT', 'AMENDED');
  ELSIF TG_TABLE_NAME = 'cell' THEN
    SELECT k.accession INTO signed FROM "slide" s JOIN "case" k ON k.id = s."caseId"
      WHERE s.id = NEW."slideId" AND k."status" IN ('SIGNED_OUT', 'AMENDED');
  ELSE
    SELECT k.accession INTO signed FROM "case" k
      WHERE k.id = NEW."caseId" AND k."status" IN ('SIGNED_OUT', 'AMENDED');
  END IF;
  IF signed IS NOT NULL THEN
    IF TG_OP = 'INSERT' THEN
      RAISE EXCEPTION 'a new "%" row on signed case % refused: a signed case changes only through an amendment', TG_TABLE_NAME, signed
        USING ERRCODE = '42501';
    END IF;
    RAISE EXCEPTION '% of a "%" row of signed case % refused: a signed case changes only through an amendment', TG_OP, TG_TABLE_NAME, signed
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER prediction_not_on_signed_case BEFORE INSERT ON "prediction" FOR EACH ROW EXECUTE FUNCTION refuse_row_on_signed_case();
CREATE TRIGGER slide_not_on_signed_case BEFORE INSERT ON "slide" FOR EACH ROW EXECUTE FUNCTION refuse_row_on_signed_case();
-- A slide's case and a cell's slide never change (slide_identity, cell_identity): NEW names the
-- same case as OLD.
CREATE TRIGGER slide_signed_frozen BEFORE UPDATE ON "slide" FOR EACH ROW EXECUTE FUNCTION refuse_row_on_signed_case();
CREATE TRIGGER cell_signed_frozen BEFORE UPDATE ON "cell" FOR EACH ROW EXECUTE FUNCTION refuse_row_on_signed_case();

-- 2. One champion. The platform archives the old champion before it promotes the new one, in one
-- transaction under a lock (setChampion); two at once would leave analyses predicting with
-- whichever a query happens to find first.
-- A database that already has two says which, rather than failing on a bare unique violation.
DO $$
DECLARE champions text;
BEGIN
  SELECT string_agg(name || ' ' || version || ' (' || id || ')', ', ') INTO champions
    FROM "model_version" WHERE "status" = 'CHAMPION' HAVING count(*) > 1;
  IF champions IS NOT NULL THEN
    RAISE EXCEPTION 'more than one CHAMPION model version: %; archive all but one (UPDATE model_version SET status = ''ARCHIVED'' WHERE id = ...), then start again', champions;
  END IF;
END $$;
CREATE UNIQUE INDEX "model_version_one_champion_key" ON "model_version" ("status") WHERE "status" = 'CHAMPION';

-- 3. Who a user is. A login names its holder in the audit trail (actorLogin) and in signed reports,
-- and the account's creation time is the start of its history: neither changes, and no account is
-- deleted (one that leaves is disabled). Name, role, password and lockout state still change.
CREATE TRIGGER user_identity BEFORE UPDATE ON "user" FOR EACH ROW
  WHEN (OLD."login" IS DISTINCT FROM NEW."login" OR OLD."createdAt" IS DISTINCT FROM NEW."createdAt")
  EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER user_no_delete BEFORE DELETE ON "user" FOR EACH ROW EXECUTE FUNCTION refuse_identity_change();
CREATE TRIGGER user_no_truncate BEFORE TRUNCATE ON "user" FOR EACH STATEMENT EXECUTE FUNCTION refuse_identity_change();

-- 4. An ended training run (SUCCEEDED, FAILED, CANCELLED) is a record, like a decided promotion:
-- its status, figures, log and error no longer change. The transaction that ends it may still
-- write to it (the worker appends its last log lines after setting the end status): the row is
-- frozen from the moment its end is committed (OLD.xmin: the transaction that wrote the row
-- version the update would replace).
CREATE TRIGGER training_run_ended BEFORE UPDATE ON "training_run" FOR EACH ROW
  WHEN (OLD."status" NOT IN ('QUEUED', 'RUNNING') AND OLD.xmin <> xid(pg_current_xact_id()))
  EXECUTE FUNCTION refuse_identity_change();

-- 5. Every function the guards and the audit chain run resolves table names in public, never in
-- the caller's temporary schema (searched first unless named, so last): a role that could create
-- a temporary "case" or "audit_event" table would otherwise have the triggers read it instead of
-- the real one (grantAppRole also takes TEMPORARY away from the platform's role).
ALTER FUNCTION refuse_history_change() SET search_path = public, pg_temp;
ALTER FUNCTION refuse_identity_change() SET search_path = public, pg_temp;
ALTER FUNCTION refuse_row_on_signed_case() SET search_path = public, pg_temp;
ALTER FUNCTION audit_event_hash("audit_event") SET search_path = public, pg_temp;
ALTER FUNCTION audit_event_chain() SET search_path = public, pg_temp;
ALTER FUNCTION audit_verify() SET search_path = public, pg_temp;
ALTER FUNCTION audit_verify_from(bigint, text) SET search_path = public, pg_temp;
