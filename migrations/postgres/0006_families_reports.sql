-- Incident families (k-means runs) and monthly reports.

-- One row per computation: what it saw and chose (silhouette per k and the parameters as JSON).
CREATE TABLE family_runs (
    run         BIGINT PRIMARY KEY,
    computed_at BIGINT NOT NULL,
    incidents   BIGINT NOT NULL,
    k           BIGINT NOT NULL,
    watermark   BIGINT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}'
);

-- Every family ever found. Ids are stable across runs; a family no run matches any more is
-- retired (retired_at set) and stays for history.
CREATE TABLE families (
    id              TEXT PRIMARY KEY,
    number          BIGINT NOT NULL,
    label           TEXT NOT NULL,
    size            BIGINT NOT NULL,
    top_terms       TEXT NOT NULL DEFAULT '[]',
    representatives TEXT NOT NULL DEFAULT '[]',
    typical_causes  TEXT NOT NULL DEFAULT '[]',
    centroid        TEXT NOT NULL DEFAULT '[]',
    first_run       BIGINT NOT NULL,
    last_run        BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    retired_at      BIGINT
);

-- The latest run's membership: each incident in one family, nearest the centre first (rank).
CREATE TABLE family_members (
    incident_id TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL,
    rank        BIGINT NOT NULL
);
CREATE INDEX family_members_by_family ON family_members (family_id, rank);

-- Monthly reports as generated (JSON), and whether the scheduled run announced them.
CREATE TABLE reports (
    month        TEXT PRIMARY KEY,
    generated_at BIGINT NOT NULL,
    scheduled    BIGINT NOT NULL DEFAULT 0,
    body         TEXT NOT NULL,
    announced_at BIGINT
);

-- Small durable facts of the service (when the report schedule started counting, …).
CREATE TABLE service_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
