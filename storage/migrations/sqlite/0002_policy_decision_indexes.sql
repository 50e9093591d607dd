-- The admin decision log filters by peer or rule, newest first (GET /api/v1/admin/policy/decisions).
CREATE INDEX IF NOT EXISTS policy_decisions_peer ON policy_decisions (peer, id);
CREATE INDEX IF NOT EXISTS policy_decisions_rule ON policy_decisions (rule, id);
