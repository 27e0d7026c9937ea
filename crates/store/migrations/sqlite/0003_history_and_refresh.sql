-- Each source's recent fetches, for its status page: kept in the store (not in one process's
-- memory) so the history survives restarts and every API node of a shared database sees the
-- same one. Pruned to the newest few rows per source on every insert.
CREATE TABLE fetch_log (
    id          INTEGER PRIMARY KEY,
    source_id   BIGINT  NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    at          BIGINT  NOT NULL,
    outcome     TEXT    NOT NULL,
    http_status BIGINT,
    message     TEXT,
    offerings   BIGINT  NOT NULL DEFAULT 0,
    new         BIGINT  NOT NULL DEFAULT 0,
    updated     BIGINT  NOT NULL DEFAULT 0,
    removed     BIGINT  NOT NULL DEFAULT 0,
    -- Parse warnings by code, as a JSON object.
    warnings    TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX fetch_log_source ON fetch_log (source_id, id);

-- When a provider last asked for a refresh, in milliseconds: a fetch that started before it
-- must not overwrite the request with its own next due time (the refresh would be lost).
ALTER TABLE fetch_state ADD COLUMN refresh_requested_ms BIGINT;
