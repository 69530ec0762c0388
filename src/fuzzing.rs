//! Entry points for the fuzz targets in `fuzz/` and their regression tests: every parser and
//! signature check that sees untrusted bytes, fed arbitrary input. Each must return (an error is
//! fine), never panic.

use secrecy::SecretString;

use crate::config::Config;
use crate::ingest::{changes, github, openlineage, pagerduty, signature};

/// The fuzz targets, by name.
pub const TARGETS: &[&str] = &[
    "pagerduty_webhook",
    "change_events",
    "github_deployment",
    "openlineage_event",
    "signatures",
    "import_record",
    "slack_command_form",
];

/// Runs `target` on `data`.
pub fn run(target: &str, data: &[u8]) {
    let config = Config::default();
    match target {
        "pagerduty_webhook" => {
            let _ = pagerduty::parse(data, &config);
        }
        "change_events" => {
            let _ = changes::parse(data, &config);
        }
        "github_deployment" => {
            let _ = github::parse(data, &config);
        }
        "openlineage_event" => {
            let _ = openlineage::parse(data);
        }
        "signatures" => {
            // The first line is the header, the rest the body.
            let (header, body) = split(data);
            let secrets = [SecretString::from("s1"), SecretString::from("s2")];
            let _ = signature::verify_pagerduty(&secrets, Some(header), body);
            let _ = signature::verify_github(&secrets[0], Some(header), body);
            let (ts, sig) = header.split_once(' ').unwrap_or((header, header));
            let _ = signature::verify_slack(&secrets[0], Some(ts), Some(sig), body, 1_767_225_600);
            let _ = signature::bearer_matches(&secrets[0], Some(header));
        }
        "import_record" => {
            if let Ok(s) = std::str::from_utf8(data) {
                let _ = crate::ingest::history::parse_record(s, &config);
            }
        }
        "slack_command_form" => {
            let _: Result<Vec<(String, String)>, _> = serde_urlencoded::from_bytes(data);
        }
        other => panic!("no fuzz target {other}"),
    }
}

fn split(data: &[u8]) -> (&str, &[u8]) {
    let nl = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let header = std::str::from_utf8(&data[..nl]).unwrap_or("");
    (header, data.get(nl + 1..).unwrap_or(&[]))
}
