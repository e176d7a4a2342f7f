-- Hand-written; the schema is unchanged but for a comment. A signature's time (sign_off."signedAt")
-- is the one record time the database cannot stamp itself, as created_at_from_database stamps every
-- createdAt: it is part of what is signed (the content, and its sha256, hold it), built before the
-- insert. signOffCase reads it from the database's clock inside the inserting transaction
-- (apps/api/src/lib/databaseNow.ts). A sign_off inserted with a time of its writer's choosing, a
-- signature backdated before the review it covers or dated ahead, is refused here, for every role.
--
-- The window: from a minute before the inserting transaction began (now(): a time read in the same
-- transaction is never earlier, whatever locks it waited on since; the minute covers a client that
-- dates the row itself on the database's own machine, as Prisma's @default(now()) does) to the
-- database's clock at the insert (clock_timestamp(): a time read before it is never later), with a
-- millisecond for the columns' rounding. UTC, as every timestamp column here.
CREATE FUNCTION sign_off_time_from_database() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
DECLARE
  earliest timestamp(3) := date_trunc('milliseconds', now() AT TIME ZONE 'UTC') - interval '1 minute';
  latest timestamp(3) := date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC') + interval '1 millisecond';
  accession text;
BEGIN
  IF NEW."signedAt" IS NULL OR NEW."signedAt" < earliest OR NEW."signedAt" > latest THEN
    SELECT k.accession INTO accession FROM "case" k WHERE k.id = NEW."caseId";
    RAISE EXCEPTION 'signature (sign_off) version % of case % refused: dated %, but the database''s clock reads % (a signature is dated by the database when it is made, never before or after)',
      NEW."version", coalesce(accession, NEW."caseId"::text), coalesce(NEW."signedAt"::text, 'nothing'), latest
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER sign_off_time_from_database BEFORE INSERT ON "sign_off" FOR EACH ROW EXECUTE FUNCTION sign_off_time_from_database();
