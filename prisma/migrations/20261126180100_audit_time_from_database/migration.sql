-- Hand-written; the schema is unchanged. An audit event's time is the database's clock at the
-- moment the event takes its place in the chain, whatever the application sends: no code path
-- or console insert can backdate an event, and time order follows seq order (the clock is read
-- once the chain lock is held). Before, "at" defaulted to the transaction's start time and could
-- be set by the inserting client.
CREATE OR REPLACE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
  last_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(7243001);
  SELECT "seq", "hash" INTO last_seq, last_hash FROM "audit_event" ORDER BY "seq" DESC LIMIT 1;
  NEW."seq" := coalesce(last_seq, 0) + 1;
  NEW."prevHash" := coalesce(last_hash, repeat('0', 64));
  -- UTC (Prisma's convention for a timestamp without time zone), cut to the column's
  -- milliseconds so that the hash covers exactly the value stored.
  NEW."at" := date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC');
  NEW."hash" := audit_event_hash(NEW);
  RETURN NEW;
END
$$;
