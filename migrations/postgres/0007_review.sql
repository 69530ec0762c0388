-- Review in the browser: who moved or edited a postmortem and when, tracked action items, and
-- server-side sign-in sessions.

-- Every review action on an incident's postmortem: status moves, edits, regenerations, action items.
CREATE TABLE review_events (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    revision    BIGINT,
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX review_events_by_incident ON review_events (incident_id, at);

-- Action items people track, numbered per incident; seeded once from the draft. Deleting one
-- only marks it, so the draft's items are never seeded twice.
CREATE TABLE action_items (
    incident_id  TEXT NOT NULL,
    n            BIGINT NOT NULL,
    text         TEXT NOT NULL,
    owner        TEXT,
    status       TEXT NOT NULL DEFAULT 'open',
    evidence_ids TEXT NOT NULL DEFAULT '[]',
    origin       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    done_at      BIGINT,
    deleted_at   BIGINT,
    PRIMARY KEY (incident_id, n)
);

-- Web sessions: the SHA-256 of the cookie's secret (never the secret), who signed in, the CSRF
-- token of the session's forms, and when it expires.
CREATE TABLE web_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL,
    method     TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);
