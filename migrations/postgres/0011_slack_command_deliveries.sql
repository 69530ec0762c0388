-- A signed Slack command may be replayed within its 300 s window: the signature of each one acted
-- on is kept (for ten minutes), so a repeat is acknowledged without being acted on again.
CREATE TABLE slack_command_deliveries (
    signature   TEXT NOT NULL PRIMARY KEY,
    received_at BIGINT NOT NULL
);
