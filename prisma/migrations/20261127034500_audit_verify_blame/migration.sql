-- Hand-written (the schema is unchanged): audit_verify() names the right event when a link
-- breaks. An event altered AND given a recomputed hash still checks out on its own; the break
-- shows at the next event, whose prevHash no longer matches. The altered one is then the earlier
-- of the two (rewriting an event's prevHash as well would have been pointless), so it is the one
-- reported, and not counted as verified.
CREATE OR REPLACE FUNCTION audit_verify()
RETURNS TABLE ("ok" boolean, "checked" bigint, "firstBrokenSeq" bigint, "problem" text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  e "audit_event";
  expected_seq bigint := 1;
  expected_prev text := repeat('0', 64);
BEGIN
  FOR e IN SELECT * FROM "audit_event" ORDER BY "seq" LOOP
    IF e."seq" <> expected_seq THEN
      RETURN QUERY SELECT false, expected_seq - 1, expected_seq,
        format('event %s is missing (found %s next)', expected_seq, e."seq");
      RETURN;
    END IF;
    IF e."prevHash" <> expected_prev THEN
      RETURN QUERY SELECT false, greatest(expected_seq - 2, 0), e."seq" - 1,
        format('event %s does not link to the hash of event %s: event %s was altered and its hash recomputed (or event %s was)', e."seq", e."seq" - 1, e."seq" - 1, e."seq");
      RETURN;
    END IF;
    IF e."hash" <> audit_event_hash(e) THEN
      RETURN QUERY SELECT false, expected_seq - 1, e."seq",
        format('event %s was altered after it was written', e."seq");
      RETURN;
    END IF;
    expected_prev := e."hash";
    expected_seq := expected_seq + 1;
  END LOOP;
  RETURN QUERY SELECT true, expected_seq - 1, NULL::bigint, NULL::text;
END
$$;
