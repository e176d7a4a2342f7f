-- Hand-written; the schema is unchanged but for its comments. Every record's creation time is the
-- database's clock, whatever the client sends. Prisma fills @default(now()) on the client, so the
-- createdAt of a user, a case, a slide, a cell and a model version (and of a job that Prisma, not
-- enqueueJob, inserted) was the clock of whichever API or worker host wrote the row: a worker an
-- hour behind dated the cells it found before the upload of their slide, an API host an hour off
-- put a case at the wrong place in the worklist's oldest-first order, and a model registered on a
-- host ahead was dated after the predictions it made. 21 CFR 11.10(e): a record's time must not
-- depend on which host wrote it. createdAt never changes afterwards (the identity guards of user,
-- case, slide, cell, model_version and training_run refuse it): the insert is the moment to set it.
--
-- Every time column Prisma fills on the client (@default(now()) or @updatedAt), and where each
-- comes from now:
--   * createdAt of user, case, slide, cell, model_version, job: here (created_at_from_database).
--   * createdAt of prediction, review, dataset_snapshot: the same function; their own three
--     (prediction_time_from_database, review_time_from_database,
--     dataset_snapshot_time_from_database) did exactly this and are dropped.
--   * training_run's createdAt, startedAt, finishedAt and model_promotion's proposedAt and
--     decidedAt: their own functions (migration record_times_from_database), which also set the
--     times an insert or update fills besides createdAt; unchanged.
--   * audit_event.at: the chain trigger, under the chain's lock. sign_off.signedAt: read from the
--     database (databaseNow) before the insert, since the signed content binds it.
--   * user.passwordChangedAt stays the API host's by design: it is only ever compared with that
--     host's clock (password age and a temporary password's hours, passwordAge.ts) and for
--     equality with the session token's version (pwv); a database stamp would put the skew between
--     the two clocks into every expiry, making a password expire early or live on.
--   * api_session.issuedAt (and lastSeenAt, expiresAt) stay the host's for the same reason: the
--     idle timeout and the token's expiry, which the host signs into the token, are checked
--     against the host's clock (sessions.ts).
--   * user, case and slide updatedAt (@updatedAt) stay Prisma's: they are optimistic-concurrency
--     versions compared for equality (updateCase's expectedUpdatedAt, voidSlide's `at`, a
--     signature's seenCaseUpdatedAt), and what changed when is the audit event's time.
--   * job.runAfter is a schedule, not a record time: enqueueJob defaults it to CURRENT_TIMESTAMP
--     and the queue compares it with CURRENT_TIMESTAMP.
--
-- Always the database's clock, for every role: no client value is kept. Nothing the platform runs
-- dates a row of these tables on purpose (seeds, demo data, e2e fixtures and tests leave createdAt
-- to the default; the tests that send one send it to predictions and snapshots, whose triggers
-- already overrode it), and the tests that age a job move its createdAt with an UPDATE, which
-- stays allowed (job has no identity guard; these triggers are for INSERT only). An exemption a
-- client could ask for (a setting, a value that looks deliberate) would be open to the platform's
-- own role too; an import of historical records is the tables' owner's job, with the trigger
-- disabled inside the import's transaction (ALTER TABLE ... DISABLE TRIGGER, which the platform's
-- role cannot: D14). apps/api/bench/load.ts spread its cases' createdAt over 30 days: they are now
-- all dated at the load, and the worklist's order within a millisecond falls to the id.
--
-- clock_timestamp() (not now(), the transaction's start), UTC, to the columns' milliseconds, for
-- the reasons given in record_times_from_database; jobs enqueued in one transaction, which shared
-- CURRENT_TIMESTAMP before, now sort in the order they were enqueued (to the millisecond).
--
-- Triggers fire in name order. Each is named <table>_time_from_database, as the three it replaces
-- were, and sorts after the table's other BEFORE INSERT triggers (case_born_unsigned,
-- *_not_on_signed_case, *_not_on_voided_slide): a refused row is refused before the clock is
-- read, as before, and the replaced triggers keep their names and so their place (CREATE OR
-- REPLACE TRIGGER swaps the function in one statement).
CREATE FUNCTION created_at_from_database() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
BEGIN
  NEW."createdAt" := date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC');
  RETURN NEW;
END
$$;

CREATE TRIGGER user_time_from_database BEFORE INSERT ON "user" FOR EACH ROW EXECUTE FUNCTION created_at_from_database();
CREATE TRIGGER case_time_from_database BEFORE INSERT ON "case" FOR EACH ROW EXECUTE FUNCTION created_at_from_database();
CREATE TRIGGER slide_time_from_database BEFORE INSERT ON "slide" FOR EACH ROW EXECUTE FUNCTION created_at_from_database();
CREATE TRIGGER cell_time_from_database BEFORE INSERT ON "cell" FOR EACH ROW EXECUTE FUNCTION created_at_from_database();
CREATE TRIGGER model_version_time_from_database BEFORE INSERT ON "model_version" FOR EACH ROW EXECUTE FUNCTION created_at_from_database();
CREATE TRIGGER job_time_from_database BEFORE INSERT ON "job" FOR EACH ROW EXECUTE FUNCTION created_at_from_database();

CREATE OR REPLACE TRIGGER prediction_time_from_database BEFORE INSERT ON "prediction" FOR EACH ROW EXECUTE FUNCTION created_at_from_database();
CREATE OR REPLACE TRIGGER review_time_from_database BEFORE INSERT ON "review" FOR EACH ROW EXECUTE FUNCTION created_at_from_database();
CREATE OR REPLACE TRIGGER dataset_snapshot_time_from_database BEFORE INSERT ON "dataset_snapshot" FOR EACH ROW EXECUTE FUNCTION created_at_from_database();
DROP FUNCTION prediction_time_from_database();
DROP FUNCTION review_time_from_database();
DROP FUNCTION dataset_snapshot_time_from_database();
