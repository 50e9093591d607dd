-- Serving a cached thumbnail (an attachment's preview, a card's image) marks its copy as
-- recently used, as serving the original does: the lookup by the served path needs this.
CREATE INDEX remote_media_preview ON remote_media (preview_path) WHERE state = 'cached' AND preview_path <> '';
