-- Periodic jobs (pruning the queues, the policy decisions, push deliveries) run once per
-- period across every process sharing the database, on however many machines: a process
-- runs a job only after claiming its row, which it can do only once the job is due
-- (due_at) and no other run holds it (held_until, 0 once that run finished). A process
-- that dies while running holds it until held_until, then the next due run takes over.
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    held_until BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    runs BIGINT NOT NULL DEFAULT 0
);
