-- OpenLineage: every accepted event once (by run id and event type), runs with their state and
-- facets, and the datasets (with versions) each run read and wrote.
CREATE TABLE lineage_events (
    run_id        TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    event_time    BIGINT NOT NULL,
    job_namespace TEXT NOT NULL,
    job_name      TEXT NOT NULL,
    body          TEXT NOT NULL,
    received_at   BIGINT NOT NULL,
    PRIMARY KEY (run_id, event_type)
);
CREATE TABLE lineage_runs (
    run_id        TEXT PRIMARY KEY,
    job_namespace TEXT NOT NULL,
    job_name      TEXT NOT NULL,
    state         TEXT NOT NULL,
    started_at    BIGINT,
    completed_at  BIGINT,
    facets        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX lineage_runs_by_job ON lineage_runs (job_name, completed_at);
CREATE TABLE lineage_io (
    run_id    TEXT NOT NULL,
    direction TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name      TEXT NOT NULL,
    version   TEXT,
    PRIMARY KEY (run_id, direction, namespace, name)
);
CREATE INDEX lineage_io_by_dataset ON lineage_io (namespace, name, direction);
