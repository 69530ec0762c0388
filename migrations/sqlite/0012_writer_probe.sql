-- One row the readiness check rewrites while the database could not take writes: when the write
-- goes through again (space freed, the database back), the service is ready again by itself.
CREATE TABLE writer_probe (
    id INTEGER NOT NULL PRIMARY KEY,
    at INTEGER NOT NULL
);
INSERT INTO writer_probe (id, at) VALUES (1, 0);
