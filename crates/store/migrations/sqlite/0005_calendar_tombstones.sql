-- What a calendar subscriber had of an offering that was taken down or whose source was
-- deleted while it was still upcoming: kept for 30 days so calendars show it as
-- STATUS:CANCELLED (SEQUENCE up) instead of it silently vanishing. Only offerings shown under
-- their own id are kept (on their own, or the last live member of their cluster).
CREATE TABLE calendar_tombstones (
    offering_id   TEXT    PRIMARY KEY,
    provider      TEXT    NOT NULL,
    -- The offering as last shown (JSON), with the sequence it was shown at.
    body          TEXT    NOT NULL,
    sequence      BIGINT  NOT NULL,
    removed_at    BIGINT  NOT NULL,
    last_end      BIGINT
);
CREATE INDEX calendar_tombstones_removed ON calendar_tombstones (removed_at);
