-- Incidents, merged from every event seen for them (any order gives the same row).
CREATE TABLE incidents (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL DEFAULT '',
    service         TEXT NOT NULL DEFAULT '',
    service_ref     TEXT,
    status          TEXT NOT NULL DEFAULT 'triggered',
    status_at       INTEGER NOT NULL DEFAULT 0,
    status_event    TEXT NOT NULL DEFAULT '',
    severity        TEXT,
    urgency         TEXT,
    number          INTEGER,
    html_url        TEXT,
    assignees       TEXT NOT NULL DEFAULT '[]',
    teams           TEXT NOT NULL DEFAULT '[]',
    triggered_at    INTEGER NOT NULL,
    acknowledged_at INTEGER,
    last_resolved_at INTEGER,
    data_at         INTEGER NOT NULL DEFAULT 0,
    source          TEXT NOT NULL DEFAULT 'pagerduty',
    summary         TEXT,
    root_cause      TEXT,
    resolution      TEXT,
    extra           TEXT NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX incidents_by_trigger ON incidents (triggered_at DESC, id DESC);
CREATE INDEX incidents_by_service ON incidents (service, triggered_at);

-- Every verified webhook body, once (deduplication by the sender's event id).
CREATE TABLE webhook_events (
    source      TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (source, event_id)
);

-- Evidence attached to one incident (PagerDuty events and notes, Slack messages).
CREATE TABLE timeline (
    incident_id TEXT NOT NULL,
    evidence_id TEXT NOT NULL,
    at          INTEGER NOT NULL,
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    author      TEXT,
    text        TEXT NOT NULL,
    PRIMARY KEY (incident_id, evidence_id)
);
CREATE INDEX timeline_by_time ON timeline (incident_id, at);

-- Changes to services (deploys, config, flags, migrations, data, models, prompts).
CREATE TABLE changes (
    id          TEXT PRIMARY KEY,
    service     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    summary     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    version     TEXT,
    author      TEXT,
    url         TEXT,
    source      TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX changes_by_service ON changes (service, at);
CREATE INDEX changes_by_time ON changes (at);

-- Durable jobs with leases: a job claimed by a process that died runs again once its lease expires.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    incident_id  TEXT,
    state        TEXT NOT NULL,
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 5,
    lease_owner  TEXT,
    lease_until  INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX jobs_by_incident ON jobs (incident_id, kind, state);

-- Postmortem revisions: drafts add revisions; people move them to in_review and published.
CREATE TABLE postmortems (
    incident_id    TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    status         TEXT NOT NULL,
    drafter        TEXT NOT NULL,
    model          TEXT,
    prompt_version TEXT,
    evidence_hash  TEXT NOT NULL,
    trace_id       TEXT NOT NULL,
    author         TEXT,
    generated_at   INTEGER NOT NULL,
    body           TEXT NOT NULL,
    markdown       TEXT NOT NULL,
    PRIMARY KEY (incident_id, revision)
);
