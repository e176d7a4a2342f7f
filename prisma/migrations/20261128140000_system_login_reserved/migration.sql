-- Hand-written; the schema is unchanged. "system" is the name the audit trail gives the platform's
-- own actions (recordAudit: actorLogin "system", no actorId): an account of that name would read, on
-- the audit page and in the CSV, as the platform itself (21 CFR 11.10(e): who acted). createUser
-- refuses it; so does the database, for every writer. Checked on INSERT only (a login is never
-- changed: user_identity refuses it), so that an install whose account already has the name can
-- still disable it, reset it or count the attempts at it: a CHECK, even NOT VALID, would refuse
-- every later update of that row.
CREATE FUNCTION refuse_reserved_login() RETURNS trigger LANGUAGE plpgsql
  SET search_path = public, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'the login "%" is reserved for the platform''s own actions in the audit trail', NEW."login"
    USING ERRCODE = 'check_violation';
END;
$$;
CREATE TRIGGER user_login_reserved BEFORE INSERT ON "user" FOR EACH ROW
  WHEN (NEW."login" = 'system')
  EXECUTE FUNCTION refuse_reserved_login();
