-- The language a queued mail is written in (its Content-Language; right-to-left ones also get
-- an HTML part written right to left). Empty for mails queued before it was kept.
ALTER TABLE mail_outbox ADD COLUMN language TEXT NOT NULL DEFAULT '';
