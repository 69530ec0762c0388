//! Slack out: the Web API client (history backfill, messages) and every announcement the service
//! posts (drafts ready, monthly reports), in one place.

pub mod announce;
pub mod slack;
