-- What the crawler decides beyond one fetch: a pause after repeated failures (lifted only by a
-- resume, never silently), and a permanent redirect waiting to be confirmed by repetition
-- before it replaces the stored URL.
ALTER TABLE fetch_state ADD COLUMN paused BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE fetch_state ADD COLUMN paused_at BIGINT;
ALTER TABLE fetch_state ADD COLUMN redirect_to TEXT;
ALTER TABLE fetch_state ADD COLUMN redirect_seen BIGINT NOT NULL DEFAULT 0;
