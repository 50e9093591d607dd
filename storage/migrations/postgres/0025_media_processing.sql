-- Video, audio and animated GIF uploads are transcoded after the upload has answered.
--
-- One row per attachment still to be processed (or whose processing failed): the
-- persisted job. ``source_path`` is the upload as received, under the media directory;
-- ``kind`` what it becomes (video | gifv | audio). A worker leases a row by moving
-- ``next_attempt_at`` ahead; success fills the attachment's files and meta and deletes the
-- row in one transaction; a failure keeps the row as 'failed' with the reason, which the
-- client API shows. A process that dies mid-way leaves the row to be taken again.
CREATE TABLE media_processing (
    media_id BIGINT PRIMARY KEY REFERENCES media_attachments (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    source_path TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX media_processing_due ON media_processing (next_attempt_at) WHERE state = 'pending';
