-- Audit records older than the retention are removed oldest first (see
-- Store.ExpireAudit).
CREATE INDEX audit_by_time ON audit (time, seq);
