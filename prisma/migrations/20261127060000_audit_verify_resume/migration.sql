-- Hand-written (the schema is unchanged): the chain can be verified from an event already
-- verified on, so that checking a trail of millions of events does not re-hash all of them on
-- every look (~10 µs an event). audit_verify_from(seq, hash) first requires that event to be
-- there with that hash, then walks the events after it exactly as audit_verify() walks them
-- all, and returns the newest hash to resume from next time. audit_verify() is now the walk
-- from the start, so the two cannot drift apart.
CREATE FUNCTION audit_verify_from(from_seq bigint, from_hash text)
RETURNS TABLE ("ok" boolean, "checked" bigint, "firstBrokenSeq" bigint, "problem" text, "lastHash" text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  e "audit_event";
  expected_seq bigint := from_seq + 1;
  expected_prev text := from_hash;
BEGIN
  IF from_seq > 0 AND NOT EXISTS (SELECT 1 FROM "audit_event" WHERE "seq" = from_seq AND "hash" = from_hash) THEN
    RETURN QUERY SELECT false, from_seq - 1, from_seq,
      format('event %s is missing or no longer has the hash it had when last verified', from_seq), NULL::text;
    RETURN;
  END IF;
  FOR e IN SELECT * FROM "audit_event" WHERE "seq" > from_seq ORDER BY "seq" LOOP
    IF e."seq" <> expected_seq THEN
      RETURN QUERY SELECT false, expected_seq - 1, expected_seq,
        format('event %s is missing (found %s next)', expected_seq, e."seq"), NULL::text;
      RETURN;
    END IF;
    IF e."prevHash" <> expected_prev THEN
      RETURN QUERY SELECT false, greatest(expected_seq - 2, 0), e."seq" - 1,
        format('event %s does not link to the hash of event %s: event %s was altered and its hash recomputed (or event %s was)', e."seq", e."seq" - 1, e."seq" - 1, e."seq"),
        NULL::text;
      RETURN;
    END IF;
    IF e."hash" <> audit_event_hash(e) THEN
      RETURN QUERY SELECT false, expected_seq - 1, e."seq",
        format('event %s was altered after it was written', e."seq"), NULL::text;
      RETURN;
    END IF;
    expected_prev := e."hash";
    expected_seq := expected_seq + 1;
  END LOOP;
  RETURN QUERY SELECT true, expected_seq - 1, NULL::bigint, NULL::text, expected_prev;
END
$$;

CREATE OR REPLACE FUNCTION audit_verify()
RETURNS TABLE ("ok" boolean, "checked" bigint, "firstBrokenSeq" bigint, "problem" text)
LANGUAGE sql STABLE AS $$
  SELECT "ok", "checked", "firstBrokenSeq", "problem" FROM audit_verify_from(0, repeat('0', 64))
$$;
