-- Embeddings of incidents for similarity (optional), one per incident and model.
CREATE TABLE embeddings (
    incident_id TEXT NOT NULL,
    model       TEXT NOT NULL,
    text_hash   TEXT NOT NULL,
    vector      BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (incident_id, model)
);

-- Slack channels linked to incidents (`/postmortem link`, or by the channel-name pattern).
CREATE TABLE slack_links (
    channel_id  TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    linked_by   TEXT,
    linked_at   INTEGER NOT NULL
);
CREATE INDEX slack_links_by_incident ON slack_links (incident_id);
