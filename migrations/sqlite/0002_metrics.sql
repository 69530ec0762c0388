-- Metrics frozen with their incident: the query, step and values, so a postmortem stays
-- reproducible after Prometheus has deleted the data.
CREATE TABLE metric_series (
    incident_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    series      INTEGER NOT NULL,
    query       TEXT NOT NULL,
    labels      TEXT NOT NULL,
    step_secs   INTEGER NOT NULL,
    start_at    INTEGER NOT NULL,
    end_at      INTEGER NOT NULL,
    points      TEXT NOT NULL,
    fetched_at  INTEGER NOT NULL,
    PRIMARY KEY (incident_id, name, series)
);
