-- Every OpenLineage event of a run is kept and merged (a run may send two COMPLETEs, the second
-- with the outputs); only an identical body (the same SHA-256) is a duplicate. Events stored
-- before keep a key made of their type, which no hash equals.
CREATE TABLE lineage_events_all (
    run_id        TEXT NOT NULL,
    body_sha256   TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    event_time    INTEGER NOT NULL,
    job_namespace TEXT NOT NULL,
    job_name      TEXT NOT NULL,
    body          TEXT NOT NULL,
    received_at   INTEGER NOT NULL,
    PRIMARY KEY (run_id, body_sha256)
);
INSERT INTO lineage_events_all (run_id, body_sha256, event_type, event_time, job_namespace,
    job_name, body, received_at)
SELECT run_id, 'before-0010:' || event_type, event_type, event_time, job_namespace, job_name,
    body, received_at FROM lineage_events;
DROP TABLE lineage_events;
ALTER TABLE lineage_events_all RENAME TO lineage_events;
