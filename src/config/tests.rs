//! The configuration's behaviour seen from outside: what each documented variable sets, what the
//! example file holds, how services resolve.

use std::collections::{BTreeMap, BTreeSet};

use secrecy::{ExposeSecret, SecretString};

use super::*;

pub(super) fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Loads with `pairs` as the environment and, when given, `toml` as the file in `POSTMORTEM_CONFIG`.
pub(super) fn load(toml: Option<&str>, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let mut vars = env(pairs);
    if let Some(toml) = toml {
        let file = dir.path().join("postmortem.toml");
        std::fs::write(&file, toml).unwrap();
        vars.insert("POSTMORTEM_CONFIG".into(), file.display().to_string());
    }
    Config::from_env(&vars)
}

fn secret(s: &Option<SecretString>) -> String {
    s.as_ref()
        .map(|s| s.expose_secret().to_string())
        .unwrap_or_default()
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(T::to_string).unwrap_or_default()
}

fn path(v: &Option<std::path::PathBuf>) -> String {
    v.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

type Field = fn(&Config) -> String;

/// Every variable a user may set today, with a value to set and the field it must land in. Written
/// by hand, not derived from the settings table, so that a variable the table loses fails here.
const VARIABLES: &[(&str, &str, Field)] = &[
    ("DATABASE_URL", "postgres://db/pm", |c| {
        c.database_url.clone()
    }),
    ("POSTMORTEM_LISTEN", "0.0.0.0:9090", |c| {
        c.listen.to_string()
    }),
    ("POSTMORTEM_BASE_URL", "https://pm.example.com", |c| {
        c.base_url.clone()
    }),
    ("POSTMORTEM_API_TOKEN", "api-t", |c| secret(&c.api_token)),
    ("POSTMORTEM_INGEST_TOKEN", "ingest-t", |c| {
        secret(&c.ingest_token)
    }),
    ("POSTMORTEM_DRAFT_DELAY_SECS", "7", |c| {
        c.draft_delay_secs.to_string()
    }),
    ("PAGERDUTY_WEBHOOK_SECRETS", "new,old", |c| {
        let s = c.pagerduty_webhook_secrets.iter();
        s.map(|s| s.expose_secret()).collect::<Vec<_>>().join(",")
    }),
    ("PAGERDUTY_API_TOKEN", "pd-t", |c| {
        secret(&c.pagerduty_api_token)
    }),
    ("PAGERDUTY_API_URL", "http://127.0.0.1:1/pd", |c| {
        c.pagerduty_api_url.clone()
    }),
    ("SLACK_SIGNING_SECRET", "slack-s", |c| {
        secret(&c.slack_signing_secret)
    }),
    ("SLACK_BOT_TOKEN", "xoxb-1", |c| secret(&c.slack_bot_token)),
    ("SLACK_API_URL", "http://127.0.0.1:1/slack", |c| {
        c.slack_api_url.clone()
    }),
    ("SLACK_REPORT_CHANNEL", "C0123", |c| {
        opt(&c.slack_report_channel)
    }),
    ("POSTMORTEM_SLACK_CHANNEL_PATTERN", "inc-{number}", |c| {
        opt(&c.slack_channel_pattern)
    }),
    ("GITHUB_WEBHOOK_SECRET", "gh-s", |c| {
        secret(&c.github_webhook_secret)
    }),
    ("OPENAI_API_KEY", "sk-1", |c| secret(&c.openai_api_key)),
    ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1", |c| {
        opt(&c.openai_base_url)
    }),
    ("POSTMORTEM_LLM_MODEL", "llama3.1", |c| opt(&c.llm_model)),
    ("POSTMORTEM_LLM_TIMEOUT_SECS", "90", |c| {
        c.llm.timeout_secs.to_string()
    }),
    ("POSTMORTEM_LLM_TOKEN_BUDGET", "8000", |c| {
        c.llm.token_budget.to_string()
    }),
    ("POSTMORTEM_PROMPTS_DIR", "my-prompts", |c| {
        path(&c.llm.prompts_dir)
    }),
    ("POSTMORTEM_PROMPT_LABEL", "v2", |c| {
        opt(&c.llm.prompt_label)
    }),
    (
        "POSTMORTEM_NON_PRODUCTION_ENVIRONMENTS",
        "canary-eu\npreview",
        |c| c.non_production_environments.join("\n"),
    ),
    (
        "POSTMORTEM_REDACT_PATTERNS",
        "acct-[0-9]+\nemp-[0-9]+",
        |c| c.llm.redact_patterns.join("\n"),
    ),
    ("POSTMORTEM_EMBEDDING_MODEL", "nomic", |c| {
        opt(&c.embedding_model)
    }),
    ("POSTMORTEM_EMBEDDING_WEIGHT", "0.25", |c| {
        c.embedding_weight.to_string()
    }),
    ("PROMETHEUS_URL", "http://127.0.0.1:9090", |c| {
        opt(&c.prometheus_url)
    }),
    ("OPENLINEAGE_URL", "http://127.0.0.1:5000", |c| {
        opt(&c.openlineage_url)
    }),
    ("POSTMORTEM_REPORT_SCHEDULE", "0 8 * * 1", |c| {
        c.report_schedule.clone()
    }),
    ("POSTMORTEM_FAMILIES_INTERVAL_SECS", "0", |c| {
        c.families_interval_secs.to_string()
    }),
    ("POSTMORTEM_TEMPLATES_DIR", "my-templates", |c| {
        path(&c.templates_dir)
    }),
    ("POSTMORTEM_AUTH_PROXY_HEADER", "X-Forwarded-User", |c| {
        opt(&c.auth_proxy_header)
    }),
    ("POSTMORTEM_SESSION_TTL_HOURS", "8", |c| {
        c.session_ttl_hours.to_string()
    }),
];

/// The secrets, which may also be given as a file path in `<NAME>_FILE`.
const SECRETS: &[&str] = &[
    "POSTMORTEM_API_TOKEN",
    "POSTMORTEM_INGEST_TOKEN",
    "PAGERDUTY_WEBHOOK_SECRETS",
    "PAGERDUTY_API_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_BOT_TOKEN",
    "GITHUB_WEBHOOK_SECRET",
    "OPENAI_API_KEY",
];

/// Documented variables that are not settings: the file itself (every other test uses it) and the
/// test suite's own switches.
const NOT_SETTINGS: &[&str] = &[
    "POSTMORTEM_CONFIG",
    "POSTMORTEM_TEST_REQUIRE_TOOLS",
    "POSTMORTEM_TEST_LLAMA_PYTHON",
    "POSTMORTEM_TEST_LLAMA_MODEL",
    // Read before the configuration, like RUST_LOG.
    "POSTMORTEM_LOG_FORMAT",
];

/// The variable names the documentation promises: the README (which lists every variable of the
/// contract) and the example file.
fn documented_names() -> BTreeSet<String> {
    let text = format!("{}\n{}", include_str!("../../README.md"), EXAMPLE);
    let name = regex::Regex::new(
        r"\b(?:POSTMORTEM|DATABASE|OPENAI|SLACK|PAGERDUTY|GITHUB|PROMETHEUS|OPENLINEAGE)_[A-Z0-9_]*[A-Z0-9]\b",
    )
    .unwrap();
    name.find_iter(&text)
        .map(|m| m.as_str().to_string())
        .filter(|n| !NOT_SETTINGS.contains(&n.as_str()))
        .collect()
}

#[test]
fn every_documented_variable_lands_in_its_field() {
    let names = documented_names();
    assert!(names.len() >= 30, "too few names found: {names:?}");
    let dir = tempfile::tempdir().unwrap();
    for name in &names {
        let (var, by_file) = match name.strip_suffix("_FILE") {
            Some(var) => (var, true),
            None => (name.as_str(), false),
        };
        let Some((_, value, field)) = VARIABLES.iter().find(|(n, _, _)| *n == var) else {
            panic!("{name} is documented but this test does not know its field");
        };
        assert_ne!(
            field(&Config::default()),
            *value,
            "{name}: pick a non-default value"
        );
        let c = if by_file {
            assert!(
                SECRETS.contains(&var),
                "{name}: only secrets come from files"
            );
            let file = dir.path().join(var);
            std::fs::write(&file, format!("{value}\n")).unwrap();
            load(None, &[(name, file.to_str().unwrap())])
        } else {
            load(None, &[(name, value)])
        };
        let c = c.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(field(&c), *value, "{name}");
    }
    // Every variable this test knows is documented, and every secret also works through a file.
    for (name, value, field) in VARIABLES {
        assert!(names.contains(*name), "{name} works but is not documented");
        if SECRETS.contains(name) {
            let file = dir.path().join(format!("{name}.secret"));
            std::fs::write(&file, format!("{value}\n")).unwrap();
            let c = load(None, &[(&format!("{name}_FILE"), file.to_str().unwrap())]).unwrap();
            assert_eq!(field(&c), *value, "{name}_FILE");
        }
    }
}

#[test]
fn every_setting_in_the_table_is_documented_and_read() {
    let names = documented_names();
    let mut seen = BTreeSet::new();
    for s in table::all() {
        assert!(seen.insert(s.key), "{} declared twice", s.key);
        if let Some(var) = s.spec.env {
            assert!(names.contains(var), "{var} ({}) is not documented", s.key);
            assert!(
                VARIABLES.iter().any(|(n, _, _)| *n == var),
                "{var} is missing from this test's list"
            );
        }
        assert!(
            EXAMPLE.contains(s.key.rsplit('.').next().unwrap()),
            "{} is not in the example file",
            s.key
        );
    }
}

#[test]
fn the_example_configuration_parses_and_holds_the_defaults() {
    let c = load(Some(EXAMPLE), &[]).expect("example parses");
    assert!(c.services.contains_key("payments-api"));
    let without_services = |c: &Config| {
        let mut c = c.clone();
        c.services.clear();
        format!("{c:?}")
    };
    assert_eq!(without_services(&c), without_services(&Config::default()));
}

#[test]
fn environment_wins_over_the_file_and_secrets_come_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("s");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let c = load(
        Some("listen = \"0.0.0.0:9000\"\ndraft_delay_secs = 5\n"),
        &[
            ("POSTMORTEM_DRAFT_DELAY_SECS", "7"),
            ("POSTMORTEM_API_TOKEN_FILE", secret.to_str().unwrap()),
            ("PAGERDUTY_WEBHOOK_SECRETS", "a, b"),
        ],
    )
    .unwrap();
    assert_eq!(c.listen.port(), 9000);
    assert_eq!(c.draft_delay_secs, 7);
    assert_eq!(c.api_token.as_ref().unwrap().expose_secret(), "s3cret");
    assert_eq!(c.pagerduty_webhook_secrets.len(), 2);
    assert_eq!(c.pagerduty_webhook_secrets[1].expose_secret(), "b");
    assert!(
        !format!("{c:?}").contains("s3cret"),
        "secrets stay out of Debug"
    );
}

#[test]
fn listening_beyond_loopback_needs_an_api_token() {
    let c = Config::from_env(&env(&[("POSTMORTEM_LISTEN", "0.0.0.0:8080")])).unwrap();
    assert!(c.validate_for_serving().is_err());
    let c = Config::from_env(&env(&[
        ("POSTMORTEM_LISTEN", "0.0.0.0:8080"),
        ("POSTMORTEM_API_TOKEN", "t"),
    ]))
    .unwrap();
    assert!(c.validate_for_serving().is_ok());
}

#[test]
fn web_sign_in_settings_are_read_and_checked() {
    let c = Config::from_env(&env(&[
        ("POSTMORTEM_AUTH_PROXY_HEADER", "X-Forwarded-User"),
        ("POSTMORTEM_SESSION_TTL_HOURS", "8"),
    ]))
    .unwrap();
    assert_eq!(c.auth_proxy_header.as_deref(), Some("X-Forwarded-User"));
    assert_eq!(c.session_ttl_hours, 8);
    assert_eq!(Config::default().session_ttl_hours, 12);
    assert!(Config::default().auth_proxy_header.is_none());
    for (k, v) in [
        ("POSTMORTEM_AUTH_PROXY_HEADER", "X Forwarded User"),
        ("POSTMORTEM_SESSION_TTL_HOURS", "0"),
        ("POSTMORTEM_SESSION_TTL_HOURS", "soon"),
    ] {
        let e = Config::from_env(&env(&[(k, v)])).unwrap_err().to_string();
        assert!(e.contains(k), "{e}");
    }
}

#[test]
fn services_resolve_through_the_mapping_or_by_name() {
    let mut c = Config::default();
    c.services.insert(
        "payments-api".into(),
        ServiceMapping {
            pagerduty: vec!["PXPAY01".into()],
            routing_keys: vec!["rk1".into()],
            aliases: vec!["Payments".into()],
            ..Default::default()
        },
    );
    assert_eq!(
        c.service_for_pagerduty(Some("PXPAY01"), Some("Whatever")),
        "payments-api"
    );
    assert_eq!(
        c.service_for_pagerduty(Some("PZZ"), Some(" Search-API ")),
        "search-api"
    );
    assert_eq!(c.resolve_service_name("PAYMENTS"), "payments-api");
    assert_eq!(
        c.service_for_routing_key("rk1").as_deref(),
        Some("payments-api")
    );
    assert_eq!(c.service_for_routing_key("nope"), None);
}

#[test]
fn services_from_the_file_are_keyed_by_canonical_id_and_queries_add_to_the_defaults() {
    let c = load(
        Some(
            r#"
[metrics]
timeout_secs = 3
[metrics.queries]
queue_depth = 'max(queue_depth{service="{service}"})'
saturation_cpu = ""
[services." Payments-API "]
prometheus = "payments"
aliases = ["pay"]
[services." Payments-API ".queries]
error_ratio = ""
"#,
        ),
        &[],
    )
    .unwrap();
    assert_eq!(c.metrics.timeout_secs, 3);
    let names: Vec<String> = c
        .metric_queries("payments-api")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    // Defaults kept, one added, one dropped globally ("") and one for this service.
    assert_eq!(
        names,
        ["latency_p95_seconds", "latency_p99_seconds", "queue_depth"]
    );
    assert_eq!(c.resolve_service_name("PAY"), "payments-api");
}

#[test]
fn pagerduty_priorities_map_by_name_or_id_and_numbered_names_need_no_map() {
    let c = load(
        Some("[pagerduty_priorities]\n\"Critical\" = \"sev1\"\nPIJ90N7 = \"SEV-3\"\n"),
        &[],
    )
    .unwrap();
    let level = |id, name| c.severity_for_priority(id, name).map(|s| s.level());
    assert_eq!(level(None, Some("critical")), Some(1), "by name, any case");
    assert_eq!(level(Some("PIJ90N7"), Some("Whatever")), Some(3), "by id");
    assert_eq!(level(None, Some("Sev 2 - High")), Some(2), "numbered");
    assert_eq!(
        level(None, Some("Urgent")),
        None,
        "neither: the urgency decides"
    );
    let e = load(Some("[pagerduty_priorities]\nCritical = \"red\"\n"), &[]).unwrap_err();
    assert!(e.to_string().contains("red"), "{e}");
}

#[test]
fn listen_takes_a_host_name_and_refuses_what_is_no_address() {
    let c = load(None, &[("POSTMORTEM_LISTEN", "localhost:8099")]).unwrap();
    assert!(c.listen.ip().is_loopback(), "{}", c.listen);
    assert_eq!(c.listen.port(), 8099);
    assert!(c.listens_on_loopback());
    let c = load(None, &[("POSTMORTEM_LISTEN", "[::1]:8098")]).unwrap();
    assert_eq!(c.listen.to_string(), "[::1]:8098");
    for bad in ["localhost", "8080", "localhost:http"] {
        let e = load(None, &[("POSTMORTEM_LISTEN", bad)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("POSTMORTEM_LISTEN"), "{bad}: {e}");
    }
}
