-- Hand-written; the schema is unchanged but for its comments. The times that date a record are
-- the database's clock, whatever the client sends, as predictions' (prediction_time_from_database),
-- audit events', signatures', voids' and promotion decisions' already are (apps/api/src/lib/
-- databaseNow.ts). Prisma fills @default(now()) on the client: a review's,
-- a dataset snapshot's, a training run's and a promotion proposal's time came from the clock of
-- whichever API or worker host wrote the row, so a host whose clock is off dated a decision before
-- the AI call it overrode, or a snapshot after the run trained on it, and two hosts disagreed on
-- the order of what one of them did after the other. A training run's start and end, set by the
-- worker's UPDATE (and by a cancellation in the API), are its times too: an UPDATE that sets one
-- (changes it to a non-null value) gets the database's clock instead; clearing one stays a clear.
-- Decisions (decidedAt) are written by decidePromotion from the database's clock already; one
-- inserted decided (none by the platform, a console insert) gets it here.
--
-- clock_timestamp(), as the prediction and audit triggers use, not now(): now() is the time the
-- transaction began, so a row written late in a long transaction (a snapshot that first reads every
-- labelled cell, a review that waited on the cell's lock) would be dated before the audit events
-- and predictions written ahead of it in the same transaction, whose triggers read the clock. UTC
-- (Prisma's convention for a timestamp without time zone), to the columns' milliseconds.
CREATE FUNCTION review_time_from_database() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
BEGIN
  NEW."createdAt" := date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC');
  RETURN NEW;
END
$$;
CREATE TRIGGER review_time_from_database BEFORE INSERT ON "review" FOR EACH ROW EXECUTE FUNCTION review_time_from_database();

CREATE FUNCTION dataset_snapshot_time_from_database() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
BEGIN
  NEW."createdAt" := date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC');
  RETURN NEW;
END
$$;
CREATE TRIGGER dataset_snapshot_time_from_database BEFORE INSERT ON "dataset_snapshot" FOR EACH ROW EXECUTE FUNCTION dataset_snapshot_time_from_database();

CREATE FUNCTION model_promotion_time_from_database() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
DECLARE
  stamp timestamp(3) := date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC');
BEGIN
  NEW."proposedAt" := stamp;
  IF NEW."decidedAt" IS NOT NULL THEN
    NEW."decidedAt" := stamp;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER model_promotion_time_from_database BEFORE INSERT ON "model_promotion" FOR EACH ROW EXECUTE FUNCTION model_promotion_time_from_database();

-- Insert: queued now (and started or ended now, should a row be inserted so). Update: a start or an
-- end being set. The identity guard (training_run_identity) still refuses any change of createdAt,
-- and the end guard (training_run_ended, which fires first: triggers fire in name order) any
-- change of an ended run.
CREATE FUNCTION training_run_time_from_database() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
DECLARE
  stamp timestamp(3) := date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC');
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW."createdAt" := stamp;
    IF NEW."startedAt" IS NOT NULL THEN NEW."startedAt" := stamp; END IF;
    IF NEW."finishedAt" IS NOT NULL THEN NEW."finishedAt" := stamp; END IF;
  ELSE
    IF NEW."startedAt" IS NOT NULL AND NEW."startedAt" IS DISTINCT FROM OLD."startedAt" THEN NEW."startedAt" := stamp; END IF;
    IF NEW."finishedAt" IS NOT NULL AND NEW."finishedAt" IS DISTINCT FROM OLD."finishedAt" THEN NEW."finishedAt" := stamp; END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER training_run_time_from_database BEFORE INSERT ON "training_run" FOR EACH ROW EXECUTE FUNCTION training_run_time_from_database();
-- Only for an update that sets a start or an end (progress and log updates skip it).
CREATE TRIGGER training_run_times_set_from_database BEFORE UPDATE ON "training_run" FOR EACH ROW
  WHEN (OLD."startedAt" IS DISTINCT FROM NEW."startedAt" OR OLD."finishedAt" IS DISTINCT FROM NEW."finishedAt")
  EXECUTE FUNCTION training_run_time_from_database();
