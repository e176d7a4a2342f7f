-- Hand-written; the schema is unchanged. "system" is the name the audit trail gives the platform's
-- own actions (recordAudit: actorLogin "system", no actorId): an account of that name would read, on
-- the audit page and in the CSV, as the platform itself (21 CFR 11.10(e): who acted). createUser
-- refuses it; so does the database, for every writer. NOT VALID: an install that already has such an
-- account keeps starting (its rows are not re-checked); no new row or change may take the name.
ALTER TABLE "user" ADD CONSTRAINT "user_login_not_system" CHECK ("login" <> 'system') NOT VALID;
