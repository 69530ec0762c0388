//! Which host a request was sent to, and whether that is this service: without an API token the
//! service listens on loopback only, and a page on another site whose name was re-pointed at this
//! machine (DNS rebinding) must not reach the pages or the API through it.

use axum::http::{HeaderMap, header};

use crate::http::AppState;

/// Without an API token the pages are open on loopback; a page on another site whose name was
/// re-pointed at this machine (DNS rebinding) must not read them, so the Host must be loopback
/// or the base URL's.
pub(crate) fn host_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    if state.config.api_token.is_some() {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return true;
    };
    let name = strip_port(host).to_ascii_lowercase();
    let loopback = name == "localhost"
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback || base_host(state).is_some_and(|b| strip_port(&b).eq_ignore_ascii_case(&name))
}

pub(crate) fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map(|(h, _)| &host[..h.len() + 1])
            .unwrap_or(host);
    }
    host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
}

/// `host[:port]` of a URL.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(rest[..end].to_ascii_lowercase())
}

pub(crate) fn base_host(state: &AppState) -> Option<String> {
    url_host(&state.config.base_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports_are_read_from_urls_and_host_headers() {
        assert_eq!(
            url_host("https://pm.example.com/x").as_deref(),
            Some("pm.example.com")
        );
        assert_eq!(
            url_host("http://127.0.0.1:8080").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(url_host("null"), None);
        assert_eq!(strip_port("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(strip_port("[::1]:8080"), "[::1]");
        assert_eq!(strip_port("localhost"), "localhost");
    }
}
