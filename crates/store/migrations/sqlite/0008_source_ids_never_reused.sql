-- The highest id a table has ever given out, so a deleted source's id is never handed to a
-- new one (SQLite reuses MAX(id) + 1 after the last row is deleted). Ids deleted before this
-- migration cannot be known; the current maximum is the start.
CREATE TABLE id_high_water (
    tbl     TEXT   PRIMARY KEY,
    last_id BIGINT NOT NULL
);
INSERT INTO id_high_water (tbl, last_id) SELECT 'sources', COALESCE(MAX(id), 0) FROM sources;
