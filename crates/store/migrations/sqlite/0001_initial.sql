-- The system of record. Portable on purpose: instants are unix seconds in BIGINT columns,
-- JSON is TEXT, booleans are BOOLEAN, so the PostgreSQL migration is the same file with
-- identity columns instead of INTEGER PRIMARY KEY.

CREATE TABLE providers (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    display_name  TEXT,
    created_at    BIGINT  NOT NULL
);

-- Only the SHA-256 digest of a key is kept; the secret is shown once, when it is made.
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    provider_id   BIGINT  NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    digest        TEXT    NOT NULL UNIQUE,
    label         TEXT,
    created_at    BIGINT  NOT NULL,
    revoked_at    BIGINT
);

CREATE TABLE sources (
    id            INTEGER PRIMARY KEY,
    provider_id   BIGINT  NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    kind          TEXT,
    -- HTML rules, default time zone and other per-source knobs, as JSON.
    settings      TEXT    NOT NULL DEFAULT '{}',
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    UNIQUE (provider_id, name)
);

-- One row per source: what the last fetches saw. Served as it is for the source status.
CREATE TABLE fetch_state (
    source_id             BIGINT  PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    etag                  TEXT,
    last_modified         TEXT,
    content_hash          TEXT,
    status                TEXT    NOT NULL DEFAULT 'never',
    last_attempt_at       BIGINT,
    last_success_at       BIGINT,
    -- The last successful fetch that was not an anomaly: absences are counted only on those.
    last_healthy_at       BIGINT,
    consecutive_failures  BIGINT  NOT NULL DEFAULT 0,
    last_error_code       TEXT,
    last_error_message    TEXT,
    http_status           BIGINT,
    offerings_count       BIGINT  NOT NULL DEFAULT 0,
    warnings_count        BIGINT  NOT NULL DEFAULT 0,
    last_anomaly_code     TEXT,
    last_anomaly_message  TEXT,
    last_anomaly_at       BIGINT,
    next_due_at           BIGINT
);
CREATE INDEX fetch_state_due ON fetch_state (next_due_at);

CREATE TABLE offerings (
    id            TEXT    PRIMARY KEY,
    source_id     BIGINT  NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    provider_id   BIGINT  NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    source_key    TEXT    NOT NULL,
    -- The whole offering as JSON; the columns below are copies for filtering only.
    body          TEXT    NOT NULL,
    content_hash  TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    modality      TEXT,
    language      TEXT,
    is_free       BOOLEAN,
    has_credits   BOOLEAN NOT NULL,
    -- Space-delimited with a leading and trailing space so `LIKE '% museums %'` is exact.
    sectors       TEXT    NOT NULL,
    topics        TEXT    NOT NULL,
    first_start   BIGINT,
    last_end      BIGINT,
    sequence      BIGINT  NOT NULL DEFAULT 0,
    updated_at    BIGINT  NOT NULL,
    first_seen    BIGINT  NOT NULL,
    last_seen     BIGINT  NOT NULL,
    removed_at    BIGINT,
    absent_count  BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX offerings_source ON offerings (source_id);
CREATE INDEX offerings_first_start ON offerings (first_start);

-- The map from a source's own key to the offering: keys are scoped by source, so one source
-- reusing another's GUIDs lands on its own rows.
CREATE TABLE offering_keys (
    source_id     BIGINT  NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    source_key    TEXT    NOT NULL,
    offering_id   TEXT    NOT NULL REFERENCES offerings (id) ON DELETE CASCADE,
    PRIMARY KEY (source_id, source_key)
);

CREATE TABLE occurrences (
    offering_id   TEXT    NOT NULL REFERENCES offerings (id) ON DELETE CASCADE,
    idx           BIGINT  NOT NULL,
    start_at      BIGINT  NOT NULL,
    end_at        BIGINT,
    all_day       BOOLEAN NOT NULL,
    cancelled     BOOLEAN NOT NULL,
    PRIMARY KEY (offering_id, idx)
);
CREATE INDEX occurrences_start ON occurrences (start_at);

CREATE TABLE clusters (
    id                     TEXT    PRIMARY KEY,
    canonical_offering_id  TEXT    NOT NULL REFERENCES offerings (id) ON DELETE CASCADE,
    explanation            TEXT    NOT NULL,
    updated_at             BIGINT  NOT NULL
);

-- An offering belongs to at most one cluster.
CREATE TABLE cluster_members (
    offering_id   TEXT    PRIMARY KEY REFERENCES offerings (id) ON DELETE CASCADE,
    cluster_id    TEXT    NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    explanation   TEXT    NOT NULL
);
CREATE INDEX cluster_members_cluster ON cluster_members (cluster_id);

-- The change log the index follows with a watermark. AUTOINCREMENT so a sequence number is
-- never reused, even after the log is pruned.
CREATE TABLE changes (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    offering_id   TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    at            BIGINT  NOT NULL
);
