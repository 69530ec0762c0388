//! GitHub `deployment_status` webhooks into changes (`change:github:<deployment id>`).
//! Payload: <https://docs.github.com/en/webhooks/webhook-events-and-payloads#deployment_status>.

use serde::Deserialize;

use super::BadPayload;
use crate::config::Config;
use crate::domain::Change;
use crate::domain::{ChangeKind, canonical_service, parse_time, to_millis};

#[derive(Deserialize)]
struct Payload {
    deployment_status: Status,
    deployment: Deployment,
    repository: Repository,
}

#[derive(Deserialize)]
struct Status {
    state: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    target_url: Option<String>,
    #[serde(default)]
    environment_url: Option<String>,
}

#[derive(Deserialize)]
struct Deployment {
    id: i64,
    #[serde(default)]
    sha: Option<String>,
    #[serde(rename = "ref", default)]
    git_ref: Option<String>,
    #[serde(default)]
    environment: Option<String>,
    /// GitHub's own marks of a non-production environment.
    #[serde(default)]
    production_environment: Option<bool>,
    #[serde(default)]
    transient_environment: Option<bool>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    creator: Option<User>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct User {
    login: String,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
}

/// A successful deployment is a change; other states (pending, failure…) are acknowledged and
/// ignored, since they changed nothing in production.
pub fn parse(body: &[u8], config: &Config) -> Result<Option<Change>, BadPayload> {
    let p: Payload = serde_json::from_slice(body)
        .map_err(|e| BadPayload::new(format!("not a GitHub deployment_status payload: {e}")))?;
    if p.deployment_status.state != "success" {
        return Ok(None);
    }
    let d = p.deployment;
    let at = p
        .deployment_status
        .created_at
        .or(d.created_at)
        .ok_or_else(|| BadPayload::new("deployment_status.created_at is missing"))?;
    let at = parse_time(&at)
        .map_err(|e| BadPayload::new(format!("deployment_status.created_at: {e}")))?;
    let repo = p.repository.full_name;
    let service = config
        .service_for_github_repo(&repo)
        .unwrap_or_else(|| canonical_service(repo.rsplit('/').next().unwrap_or(&repo)));
    let short_sha = d
        .sha
        .as_deref()
        .map(|s| s.chars().take(7).collect::<String>());
    let version = d.git_ref.clone().or(short_sha.clone());
    let env = d.environment.unwrap_or_else(|| "production".into());
    let production = d.production_environment != Some(false)
        && d.transient_environment != Some(true)
        && !config.is_non_production(&env);
    let summary = match d.description.filter(|s| !s.trim().is_empty()) {
        Some(desc) => format!("{desc} ({repo} to {env})"),
        None => format!(
            "Deploy {repo} {}{} to {env}",
            d.git_ref.as_deref().unwrap_or(""),
            short_sha.map(|s| format!(" ({s})")).unwrap_or_default()
        ),
    };
    Ok(Some(Change {
        id: format!("github:{}", d.id),
        service,
        kind: ChangeKind::Deploy,
        summary,
        at: to_millis(at),
        version,
        author: d.creator.map(|c| c.login),
        url: p
            .deployment_status
            .target_url
            .or(p.deployment_status.environment_url)
            .or(d.url),
        source: "github".into(),
        environment: Some(env),
        production,
        lineage: None,
    }))
}
