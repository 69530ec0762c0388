//! Webhook signature checks, always on the raw bytes, always constant-time.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// PagerDuty V3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 of the raw body.
/// While a secret rotates the header carries several signatures and we hold several secrets:
/// any match is enough.
pub fn verify_pagerduty(secrets: &[SecretString], header: Option<&str>, body: &[u8]) -> bool {
    let Some(header) = header else { return false };
    let signatures: Vec<Vec<u8>> = header
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .filter_map(|hex_sig| hex::decode(hex_sig.trim()).ok())
        .collect();
    secrets.iter().any(|secret| {
        signatures
            .iter()
            .any(|sig| hmac_matches(secret.expose_secret().as_bytes(), body, sig))
    })
}

/// Signs a body the way PagerDuty does (tests, the demo and the load script use it).
pub fn sign_pagerduty(secret: &str, body: &[u8]) -> String {
    format!("v1={}", hex::encode(hmac_sha256(secret.as_bytes(), body)))
}

/// GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body.
pub fn verify_github(secret: &SecretString, header: Option<&str>, body: &[u8]) -> bool {
    header
        .and_then(|h| h.trim().strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
        .is_some_and(|sig| hmac_matches(secret.expose_secret().as_bytes(), body, &sig))
}

pub fn hmac_sha256(key: &[u8], body: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

fn hmac_matches(key: &[u8], body: &[u8], signature: &[u8]) -> bool {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(signature).is_ok()
}

/// Bearer tokens compared in constant time.
pub fn bearer_matches(expected: &SecretString, header: Option<&str>) -> bool {
    let Some(given) = header.and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
    }) else {
        return false;
    };
    let expected = expected.expose_secret().as_bytes();
    let given = given.trim().as_bytes();
    expected.len() == given.len() && bool::from(expected.ct_eq(given))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(s: &[&str]) -> Vec<SecretString> {
        s.iter()
            .map(|s| SecretString::from(s.to_string()))
            .collect()
    }

    #[test]
    fn any_matching_v1_entry_of_any_secret_verifies() {
        let body = br#"{"event":{}}"#;
        let good = sign_pagerduty("new", body);
        let old = sign_pagerduty("old", body);
        let header = format!("v1=deadbeef,{old}");
        assert!(verify_pagerduty(
            &secrets(&["new", "old"]),
            Some(&good),
            body
        ));
        assert!(verify_pagerduty(
            &secrets(&["new", "old"]),
            Some(&header),
            body
        ));
        assert!(!verify_pagerduty(&secrets(&["new"]), Some(&header), body));
        assert!(!verify_pagerduty(
            &secrets(&["new"]),
            Some(&good),
            b"{\"event\":{ }}"
        ));
        assert!(!verify_pagerduty(&secrets(&["new"]), None, body));
        assert!(!verify_pagerduty(&secrets(&["new"]), Some("v1=zz"), body));
        assert!(!verify_pagerduty(&[], Some(&good), body));
    }

    #[test]
    fn bearer_tokens_must_match_exactly() {
        let t = SecretString::from("tok".to_string());
        assert!(bearer_matches(&t, Some("Bearer tok")));
        assert!(!bearer_matches(&t, Some("Bearer to")));
        assert!(!bearer_matches(&t, Some("tok")));
        assert!(!bearer_matches(&t, None));
    }

    #[test]
    fn github_signatures_verify() {
        let s = SecretString::from("gh".to_string());
        let sig = format!("sha256={}", hex::encode(hmac_sha256(b"gh", b"x")));
        assert!(verify_github(&s, Some(&sig), b"x"));
        assert!(!verify_github(&s, Some(&sig), b"y"));
    }
}

/// Why a Slack request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackRefusal {
    /// No signature or timestamp headers.
    Missing,
    /// The timestamp is more than 300 s from now (a replay, or a clock far off).
    Stale,
    /// The signature does not match the body.
    Forged,
}

/// Slack's v0 scheme: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{raw body}">`,
/// refused when `X-Slack-Request-Timestamp` is more than 300 s from `now_secs`.
pub fn verify_slack(
    secret: &SecretString,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<(), SlackRefusal> {
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return Err(SlackRefusal::Missing);
    };
    let t: i64 = ts.trim().parse().map_err(|_| SlackRefusal::Missing)?;
    if (now_secs - t).abs() > 300 {
        return Err(SlackRefusal::Stale);
    }
    let Some(hex_sig) = sig.trim().strip_prefix("v0=") else {
        return Err(SlackRefusal::Forged);
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return Err(SlackRefusal::Forged);
    };
    let mut base = format!("v0:{ts}:").into_bytes();
    base.extend_from_slice(body);
    if hmac_matches(secret.expose_secret().as_bytes(), &base, &given) {
        Ok(())
    } else {
        Err(SlackRefusal::Forged)
    }
}

/// The `X-Slack-Signature` value for `body` at `timestamp` (for tests and tools).
pub fn sign_slack(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut base = format!("v0:{timestamp}:").into_bytes();
    base.extend_from_slice(body);
    format!("v0={}", hex::encode(hmac_sha256(secret.as_bytes(), &base)))
}
