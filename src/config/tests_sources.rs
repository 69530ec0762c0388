//! Sources and checks: the same check and the same message whatever the source, precedence,
//! blank values, secret files, errors naming their setting, secrets kept out of `Debug`.

use secrecy::ExposeSecret;

use super::tests::{env, load};
use super::*;

/// Environment variables of a case.
type Vars<'a> = &'a [(&'a str, &'a str)];

fn invalid(e: ConfigError) -> (&'static str, String) {
    match e {
        ConfigError::Invalid { name, message } => (name, message),
        other => panic!("expected an invalid setting, got {other}"),
    }
}

#[test]
fn a_bad_value_gets_the_same_check_and_message_from_the_file_and_the_environment() {
    let cases = [
        (
            "embedding_weight",
            "POSTMORTEM_EMBEDDING_WEIGHT",
            ["1.5", "-0.1", "\"lots\""],
        ),
        (
            "session_ttl_hours",
            "POSTMORTEM_SESSION_TTL_HOURS",
            ["0", "2161", "\"soon\""],
        ),
    ];
    for (key, var, bad) in cases {
        for toml_value in bad {
            let env_value = toml_value.trim_matches('"');
            let from_file = load(Some(&format!("{key} = {toml_value}\n")), &[]).unwrap_err();
            let from_env = load(None, &[(var, env_value)]).unwrap_err();
            let (file_name, file_message) = invalid(from_file);
            let (env_name, env_message) = invalid(from_env);
            assert_eq!((file_name, env_name), (key, var));
            assert_eq!(file_message, env_message, "{key} = {toml_value}");
            assert!(file_message.starts_with(&format!("\"{env_value}\" is not ")));
        }
    }
    // And the bounds themselves pass from both.
    let c = load(
        Some("embedding_weight = 1.0\nsession_ttl_hours = 2160\n"),
        &[],
    )
    .unwrap();
    assert_eq!((c.embedding_weight, c.session_ttl_hours), (1.0, 2160));
    let c = load(
        None,
        &[
            ("POSTMORTEM_EMBEDDING_WEIGHT", "0"),
            ("POSTMORTEM_SESSION_TTL_HOURS", "1"),
        ],
    )
    .unwrap();
    assert_eq!((c.embedding_weight, c.session_ttl_hours), (0.0, 1));
}

#[test]
fn errors_name_the_setting_after_its_source() {
    let cases: &[(Option<&str>, Vars, &str)] = &[
        (
            None,
            &[("POSTMORTEM_LISTEN", "nowhere")],
            r#"POSTMORTEM_LISTEN is invalid: "nowhere" is not an address such as 127.0.0.1:8080 or localhost:8080"#,
        ),
        (
            Some("listen = \"nowhere\""),
            &[],
            r#"listen is invalid: "nowhere" is not an address such as 127.0.0.1:8080 or localhost:8080"#,
        ),
        (
            None,
            &[("POSTMORTEM_DRAFT_DELAY_SECS", "soon")],
            r#"POSTMORTEM_DRAFT_DELAY_SECS is invalid: "soon" is not a whole number of seconds"#,
        ),
        (
            None,
            &[("POSTMORTEM_LLM_TOKEN_BUDGET", "lots")],
            r#"POSTMORTEM_LLM_TOKEN_BUDGET is invalid: "lots" is not a whole number of tokens"#,
        ),
        (
            Some("[llm]\ntimeout_secs = \"soon\""),
            &[],
            r#"llm.timeout_secs is invalid: "soon" is not a whole number of seconds"#,
        ),
        (
            Some("auth_proxy_header = \"X User\""),
            &[],
            r#"auth_proxy_header is invalid: "X User" is not an HTTP header name"#,
        ),
        (
            Some("[drafting]\nmax_hypotheses = -1"),
            &[],
            r#"drafting.max_hypotheses is invalid: "-1" is not a whole number"#,
        ),
    ];
    for (toml, vars, expected) in cases {
        assert_eq!(load(*toml, vars).unwrap_err().to_string(), *expected);
    }
    // A bad pattern is named after the source it came from, whichever list it is in.
    let toml = Some("[llm]\nredact_patterns = [\"ok\"]\n");
    let e = load(toml, &[("POSTMORTEM_REDACT_PATTERNS", "fine\n(")]).unwrap_err();
    let (name, message) = invalid(e);
    assert_eq!(name, "POSTMORTEM_REDACT_PATTERNS");
    assert!(
        message.starts_with("\"(\" is not a regular expression: "),
        "{message}"
    );
    let e = load(Some("[llm]\nredact_patterns = [\"[\"]\n"), &[]).unwrap_err();
    assert_eq!(invalid(e).0, "llm.redact_patterns");
}

#[test]
fn problems_with_the_files_are_their_own_errors() {
    let missing = Config::from_env(&env(&[("POSTMORTEM_CONFIG", "/nonexistent/pm.toml")]));
    assert!(
        matches!(missing, Err(ConfigError::Read { path, .. }) if path == "/nonexistent/pm.toml")
    );
    for (toml, mentions) in [
        ("listen = ", "TOML parse error"),
        ("colour = \"blue\"", "colour"),
        ("[llm]\nmodel = \"x\"", "model"),
        ("[services.a]\npagerduty = \"P1\"", "services.a.pagerduty"),
        ("[services.a]\npagerduty_ids = [\"P1\"]", "pagerduty_ids"),
    ] {
        match load(Some(toml), &[]) {
            Err(ConfigError::Toml { path, message }) => {
                assert!(path.ends_with("postmortem.toml"), "{path}");
                assert!(message.contains(mentions), "{toml}: {message}");
            }
            other => panic!("{toml}: {other:?}"),
        }
    }
    let e = load(None, &[("SLACK_BOT_TOKEN_FILE", "/nonexistent/token")]).unwrap_err();
    assert!(matches!(&e, ConfigError::ReadSecret { path, .. } if path == "/nonexistent/token"));
    // Named after the variable that points at it, as a secret file, not "configuration file".
    let text = e.to_string();
    assert!(
        text.starts_with("cannot read SLACK_BOT_TOKEN_FILE (the secret file /nonexistent/token)"),
        "{text}"
    );
    // The variable itself wins, and then the file is not even read.
    let c = load(
        None,
        &[
            ("SLACK_BOT_TOKEN", "xoxb-1"),
            ("SLACK_BOT_TOKEN_FILE", "/nonexistent/token"),
        ],
    )
    .unwrap();
    assert_eq!(c.slack_bot_token.unwrap().expose_secret(), "xoxb-1");
}

#[test]
fn the_environment_wins_over_secret_files_which_win_over_the_toml_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "from-file\r\n").unwrap();
    let file = file.to_str().unwrap();
    let toml = Some("api_token = \"from-toml\"\npagerduty_webhook_secrets = [\"t1\", \"t2\"]\n");
    let token = |c: Config| c.api_token.unwrap().expose_secret().to_string();
    assert_eq!(token(load(toml, &[]).unwrap()), "from-toml");
    let c = load(toml, &[("POSTMORTEM_API_TOKEN_FILE", file)]).unwrap();
    assert_eq!(token(c), "from-file");
    let vars = [
        ("POSTMORTEM_API_TOKEN_FILE", file),
        ("POSTMORTEM_API_TOKEN", "from-env"),
    ];
    assert_eq!(token(load(toml, &vars).unwrap()), "from-env");
    // A list from the environment replaces the file's, except redact patterns, which add to it.
    let c = load(toml, &[("PAGERDUTY_WEBHOOK_SECRETS", "e1")]).unwrap();
    assert_eq!(c.pagerduty_webhook_secrets.len(), 1);
    let toml = Some("[llm]\nredact_patterns = [\"a+\"]\n");
    let c = load(toml, &[("POSTMORTEM_REDACT_PATTERNS", " b+ \n\nc+\n")]).unwrap();
    assert_eq!(c.llm.redact_patterns, ["a+", "b+", "c+"]);
}

#[test]
fn empty_or_whitespace_values_are_unset_whatever_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let blank_file = dir.path().join("blank");
    std::fs::write(&blank_file, " \n").unwrap();
    let blank_file = blank_file.to_str().unwrap();
    let toml = "database_url = \"postgres://db/pm\"\ndraft_delay_secs = 9\napi_token = \"\"\n\
                ingest_token = \"  \"\npagerduty_webhook_secrets = [\"\", \"s1\", \" \"]\n\
                [llm]\nprompt_label = \"\"\n";
    let c = load(
        Some(toml),
        &[
            ("DATABASE_URL", ""),
            ("POSTMORTEM_DRAFT_DELAY_SECS", "  "),
            ("POSTMORTEM_LISTEN", " "),
            ("SLACK_BOT_TOKEN", ""),
            ("SLACK_BOT_TOKEN_FILE", blank_file),
            ("OPENAI_API_KEY_FILE", blank_file),
            ("GITHUB_WEBHOOK_SECRET", "\t"),
            ("POSTMORTEM_LLM_MODEL", " "),
            ("POSTMORTEM_REDACT_PATTERNS", "\n \n"),
        ],
    )
    .unwrap();
    // A blank variable does not hide the file's value, nor the default.
    assert_eq!(c.database_url, "postgres://db/pm");
    assert_eq!(c.draft_delay_secs, 9);
    assert_eq!(c.listen, Config::default().listen);
    // A blank secret is no secret, from the file, a secret file or the environment.
    assert!(c.api_token.is_none() && c.ingest_token.is_none());
    assert!(c.slack_bot_token.is_none() && c.openai_api_key.is_none());
    assert!(c.github_webhook_secret.is_none());
    let secrets: Vec<&str> = c
        .pagerduty_webhook_secrets
        .iter()
        .map(|s| s.expose_secret())
        .collect();
    assert_eq!(secrets, ["s1"]);
    assert!(c.llm_model.is_none() && c.llm.prompt_label.is_none());
    assert!(c.llm.redact_patterns.is_empty());
    // Text around a value is trimmed, but a secret is kept as given (bar a file's last newline).
    let c = load(
        None,
        &[
            ("POSTMORTEM_LISTEN", " 127.0.0.1:9000 "),
            ("POSTMORTEM_API_TOKEN", " t "),
        ],
    )
    .unwrap();
    assert_eq!(c.listen.port(), 9000);
    assert_eq!(c.api_token.unwrap().expose_secret(), " t ");
}

#[test]
fn secrets_never_show_in_debug_output_nor_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slack");
    std::fs::write(&file, "SeCrEt-from-a-file\n").unwrap();
    let toml =
        "ingest_token = \"SeCrEt-ingest-toml\"\npagerduty_webhook_secrets = [\"SeCrEt-pd-toml\"]\n";
    let c = load(
        Some(toml),
        &[
            ("POSTMORTEM_API_TOKEN", "SeCrEt-api"),
            ("PAGERDUTY_API_TOKEN", "SeCrEt-pd-api"),
            ("SLACK_SIGNING_SECRET_FILE", file.to_str().unwrap()),
            ("SLACK_BOT_TOKEN", "SeCrEt-bot"),
            ("GITHUB_WEBHOOK_SECRET", "SeCrEt-gh"),
            ("OPENAI_API_KEY", "SeCrEt-openai"),
        ],
    )
    .unwrap();
    assert!(c.slack_signing_secret.is_some() && c.pagerduty_webhook_secrets.len() == 1);
    let debug = format!("{c:?} {c:#?}");
    assert!(!debug.contains("SeCrEt"), "{debug}");
    let e = load(Some("api_token = 12345678\n"), &[]).unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(
        shown.contains("api_token") && !shown.contains("12345678"),
        "{shown}"
    );
}
