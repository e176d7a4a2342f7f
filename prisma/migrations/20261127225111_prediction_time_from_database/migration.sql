-- CreateIndex
CREATE INDEX "prediction_cellId_createdAt_id_idx" ON "prediction"("cellId", "createdAt" DESC, "id" DESC);

-- Hand-written: a prediction's time is the database's clock at the insert, whatever the client
-- sends. Prisma fills @default(now()) on the client, so a call written by a worker whose clock
-- lags could sort below the call it replaces, and "the newest call" (what a cell shows, what is
-- confirmed, which model must call it next) would depend on the worker host. Calls on one cell by
-- different models are written one after the other (the champion lock orders them), so the
-- database's clock orders them as they happened. Same precision as the column, as for audit events.
CREATE FUNCTION prediction_time_from_database() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
BEGIN
  NEW."createdAt" := date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC');
  RETURN NEW;
END
$$;
CREATE TRIGGER prediction_time_from_database BEFORE INSERT ON "prediction" FOR EACH ROW EXECUTE FUNCTION prediction_time_from_database();
