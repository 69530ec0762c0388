//! How configured services are named across systems: PagerDuty ids, routing keys, GitHub
//! repositories, OpenLineage jobs and aliases all resolve to one canonical service id.

use super::{Config, ServiceMapping};
use crate::domain::{Severity, canonical_service};

impl Config {
    /// The canonical service for a PagerDuty service (its id mapped in configuration, else its
    /// summary lower-cased), so every source names a service the same way.
    pub fn service_for_pagerduty(&self, id: Option<&str>, summary: Option<&str>) -> String {
        if let Some(id) = id
            && let Some(name) = self.find_service(|m| m.pagerduty.iter().any(|p| p == id))
        {
            return name;
        }
        self.resolve_service_name(summary.unwrap_or(""))
    }

    /// A routing key's service, when configuration maps it.
    pub fn service_for_routing_key(&self, key: &str) -> Option<String> {
        self.find_service(|m| m.routing_keys.iter().any(|k| k == key))
    }

    /// A GitHub repository's service, when configuration maps it.
    pub fn service_for_github_repo(&self, repo: &str) -> Option<String> {
        self.find_service(|m| m.github_repos.iter().any(|r| r.eq_ignore_ascii_case(repo)))
    }

    /// The service an OpenLineage job is: mapped in configuration (`namespace/name` or `name`),
    /// else a job named like a service is that service.
    pub fn service_for_job(&self, namespace: &str, name: &str) -> String {
        let full = format!("{namespace}/{name}");
        self.find_service(|m| {
            m.openlineage_jobs
                .iter()
                .any(|j| j.eq_ignore_ascii_case(&full) || j.eq_ignore_ascii_case(name))
        })
        .unwrap_or_else(|| self.resolve_service_name(name))
    }

    /// Whether a deployment environment is marked non-production (`non_production_environments`).
    pub fn is_non_production(&self, environment: &str) -> bool {
        let env = environment.trim();
        self.non_production_environments
            .iter()
            .any(|n| n.trim().eq_ignore_ascii_case(env))
    }

    /// The severity a PagerDuty priority means: mapped in `[pagerduty_priorities]` by its id or
    /// its name (case-insensitive), else read from the number in its name (`P1`, `SEV-1`,
    /// `Sev 2 - High`); `None` when neither says.
    pub fn severity_for_priority(&self, id: Option<&str>, name: Option<&str>) -> Option<Severity> {
        let mapped = self.pagerduty_priorities.iter().find(|(key, _)| {
            id.is_some_and(|id| id == key.as_str())
                || name.is_some_and(|n| n.trim().eq_ignore_ascii_case(key.trim()))
        });
        match mapped {
            Some((_, severity)) => Some(*severity),
            None => name.and_then(|n| Severity::parse(n).ok()),
        }
    }

    /// The services `service` depends on (`[services.X] depends_on`), by canonical name.
    pub fn dependencies_of(&self, service: &str) -> Vec<String> {
        self.services
            .get(service)
            .map(|m| {
                m.depends_on
                    .iter()
                    .map(|d| self.resolve_service_name(d))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Any name (alias, canonical, different case) to the canonical service id.
    pub fn resolve_service_name(&self, name: &str) -> String {
        let c = canonical_service(name);
        if self.services.contains_key(&c) {
            return c;
        }
        self.find_service(|m| m.aliases.iter().any(|a| canonical_service(a) == c))
            .unwrap_or(c)
    }

    /// The PromQL queries for a service: defaults with per-service overrides, `{service}` filled in.
    pub fn metric_queries(&self, service: &str) -> Vec<(String, String)> {
        let mapping = self.services.get(service);
        let label = mapping
            .and_then(|m| m.prometheus.clone())
            .unwrap_or_else(|| service.to_string());
        let mut queries = self.metrics.queries.clone();
        if let Some(m) = mapping {
            queries.extend(m.queries.clone());
        }
        queries
            .into_iter()
            .filter(|(_, q)| !q.trim().is_empty())
            .map(|(name, q)| (name, q.replace("{service}", &label)))
            .collect()
    }

    fn find_service(&self, pred: impl Fn(&ServiceMapping) -> bool) -> Option<String> {
        self.services
            .iter()
            .find(|(_, m)| pred(m))
            .map(|(k, _)| k.clone())
    }
}
