-- First-contact quarantine ([federation] first_contact = "quarantine").
--
-- A host met for the first time gets a row in ``quarantine_hosts`` (state ``held``) and
-- what it sends is kept in ``quarantined_activities`` (the verified, policy-checked
-- activity, as it would have entered the inbox queue) until an admin releases the host
-- (state ``released``: the activities move to the inbox queue in arrival order and their
-- rows are deleted in the same transaction, so each is processed once) or rejects it
-- (state ``rejected``: the activities are deleted and the host is suspended by a domain
-- block). ``decided_by`` is the admin's username, or ``expiry`` after quarantine_hours.
CREATE TABLE quarantine_hosts (
    host TEXT PRIMARY KEY,
    state TEXT NOT NULL DEFAULT 'held',
    first_seen_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX quarantine_hosts_state ON quarantine_hosts (state, first_seen_at);

CREATE TABLE quarantined_activities (
    id BIGINT PRIMARY KEY,
    host TEXT NOT NULL,
    activity_id TEXT NOT NULL UNIQUE,
    activity_type TEXT NOT NULL,
    actor TEXT NOT NULL,
    payload TEXT NOT NULL,
    recipient_account_id BIGINT,
    received_at BIGINT NOT NULL
);
CREATE INDEX quarantined_activities_host ON quarantined_activities (host, id);
