"""The admin panel under ``/admin``: server-rendered pages for the federation policy
(domain blocks and allows, subscriptions and drafts, the quarantine queue, the policy log
with explanations) and reports. Admin accounts only; every form is CSRF-protected; the
pages call the same services as the admin API and the CLI."""
