-- One row that `Store::probe_write` updates to learn whether the store can write again
-- (after a full disk was freed) before real work tries.
CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    writes INTEGER NOT NULL
);
INSERT INTO write_probe (id, writes) VALUES (1, 0);
