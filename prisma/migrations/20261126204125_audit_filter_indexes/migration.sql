-- CreateIndex
CREATE INDEX "audit_event_entityId_idx" ON "audit_event"("entityId");

-- CreateIndex
CREATE INDEX "audit_event_actorLogin_seq_idx" ON "audit_event"("actorLogin", "seq");
