//! Who is looking: sign-in, sessions and CSRF for the pages.
//!
//! A person is known by (1) the trusted reverse proxy's user header, only when
//! `POSTMORTEM_AUTH_PROXY_HEADER` names one, or (2) a session started by typing
//! `POSTMORTEM_API_TOKEN` into the sign-in form, or (3) with no API token configured (the service
//! then only listens on loopback, as for the API) as "local". Sessions live server-side (only a
//! hash of the cookie's secret is stored) and expire; the cookie is HTTP-only, SameSite=Lax and
//! Secure when `POSTMORTEM_BASE_URL` is https. Every POST carries the session's synchronizer
//! token and, when the browser sends one, an Origin (or Referer) of this service.

use axum::body::Body;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::PageError;
use crate::domain::now_millis;
use crate::http::AppState;
use crate::http::error::Error;
use crate::http::extract::read_body;
use crate::http::host::{base_host, host_allowed, url_host};
use crate::store::sessions::WebSession;

mod login;

pub use login::{login, login_form, logout};

/// The signed-in person, put into the request by [`require`].
#[derive(Clone)]
pub struct WebUser {
    pub name: String,
    /// `token`, `proxy` or `local`.
    pub method: String,
    /// The session's synchronizer token, for the forms.
    pub csrf: String,
}

impl std::fmt::Debug for WebUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebUser")
            .field("name", &self.name)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebUser {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, PageError> {
        parts
            .extensions
            .get::<WebUser>()
            .cloned()
            .ok_or_else(|| PageError(Error::Internal("page served without sign-in".into())))
    }
}

fn secure(state: &AppState) -> bool {
    state.config.base_url.starts_with("https://")
}

/// `__Host-` (bound to this host, Secure, path /) when served over https.
fn session_cookie_name(state: &AppState) -> &'static str {
    if secure(state) {
        "__Host-pm_session"
    } else {
        "pm_session"
    }
}

/// 256 random bits (two v4 UUIDs' 244, plus version bits), as hex.
fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn equal(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    bool::from(a.ct_eq(&b))
}

fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_string()).filter_map(Result::ok))
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

fn cookie(state: &AppState, name: &str, value: &str, path: &str, max_age_secs: i64) -> String {
    Cookie::build((name.to_string(), value.to_string()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(state))
        .path(path.to_string())
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
        .to_string()
}

/// The proxy's user, when a proxy header is configured and present.
fn proxy_user(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, Error> {
    let Some(name) = state.config.auth_proxy_header.as_deref() else {
        return Ok(None);
    };
    match headers.get(name.trim()) {
        None => Ok(None),
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| Error::BadRequest(format!("header {name} is not text")))?;
            Ok(Some(crate::review::person_name(v).map_err(|e| {
                Error::BadRequest(format!("header {name}: {e}"))
            })?))
        }
    }
}

/// Is this session still one the current settings allow?
fn method_allowed(state: &AppState, method: &str) -> bool {
    match method {
        "token" => true,
        "local" => state.config.api_token.is_none(),
        "proxy" => state.config.auth_proxy_header.is_some(),
        _ => false,
    }
}

async fn start_session(
    state: &AppState,
    name: String,
    method: &str,
) -> Result<(WebUser, String), Error> {
    let now = now_millis();
    let ttl_secs = state.config.session_ttl_hours as i64 * 3600;
    let secret = random_secret();
    let session = WebSession {
        user: name,
        method: method.to_string(),
        csrf_token: random_secret(),
        expires_at: now + ttl_secs * 1000,
    };
    state
        .store
        .create_web_session(&hash(&secret), &session, now)
        .await?;
    let set = cookie(state, session_cookie_name(state), &secret, "/", ttl_secs);
    Ok((
        WebUser {
            name: session.user,
            method: session.method,
            csrf: session.csrf_token,
        },
        set,
    ))
}

/// The person behind a request, and a cookie to set when a session was started for them.
async fn identify(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(WebUser, Option<String>)>, Error> {
    let proxy = proxy_user(state, headers)?;
    if let Some(secret) = read_cookie(headers, session_cookie_name(state))
        && let Some(s) = state
            .store
            .web_session(&hash(&secret), now_millis())
            .await?
        && method_allowed(state, &s.method)
        && proxy.as_ref().is_none_or(|p| *p == s.user)
    {
        let user = WebUser {
            name: s.user,
            method: s.method,
            csrf: s.csrf_token,
        };
        return Ok(Some((user, None)));
    }
    let (name, method) = match proxy {
        Some(p) => (p, "proxy"),
        None if state.config.api_token.is_none() => ("local".to_string(), "local"),
        None => return Ok(None),
    };
    let (user, set) = start_session(state, name, method).await?;
    Ok(Some((user, Some(set))))
}

/// A POST's Origin (else Referer), when the browser sends one, must be this service: the host
/// the request was sent to, or the base URL's.
fn origin_allowed(state: &AppState, headers: &HeaderMap) -> Result<(), Error> {
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|v| v.to_str().unwrap_or("null").to_string());
    let Some(claimed) = claimed else {
        return Ok(());
    };
    let from = url_host(&claimed);
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    let ok = from.is_some() && (from == host || from == base_host(state));
    if ok {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "cross-site request refused: it came from {claimed:?}, not from this service"
        )))
    }
}

/// Headers every page carries: no caching of private pages, no framing, no inline script.
pub(crate) fn harden(resp: &mut Response) {
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
}

/// Middleware in front of every page: identifies the person (or sends them to sign in), checks
/// the CSRF token and Origin of every POST, and sets the session cookie when one was started.
pub async fn require(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = match guard(&state, req).await {
        Ok((req, set_cookie)) => {
            let mut resp = next.run(req).await;
            if let Some(c) = set_cookie
                && let Ok(v) = HeaderValue::from_str(&c)
            {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(resp) => resp,
    };
    harden(&mut resp);
    resp
}

async fn guard(state: &AppState, req: Request) -> Result<(Request, Option<String>), Response> {
    let page = |e: Error| PageError(e).into_response();
    if !host_allowed(state, req.headers()) {
        return Err(page(Error::Forbidden(
            "this host name is not the service's: open it as localhost or its base URL".into(),
        )));
    }
    let is_read = matches!(*req.method(), Method::GET | Method::HEAD);
    let who = identify(state, req.headers()).await.map_err(page)?;
    let Some((user, set_cookie)) = who else {
        if is_read {
            let next = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let to = format!(
                "/login?{}",
                serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
            );
            return Err(Redirect::to(&to).into_response());
        }
        return Err(page(Error::Unauthorized(
            "sign in first: your session has ended".into(),
        )));
    };
    let mut req = req;
    if !is_read {
        origin_allowed(state, req.headers()).map_err(page)?;
        let (parts, body) = req.into_parts();
        let bytes = read_body(&parts.headers, body).await.map_err(page)?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| page(Error::BadRequest(format!("form: {e}"))))?;
        let token = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str());
        if !token.is_some_and(|t| equal(t, &user.csrf)) {
            return Err(page(Error::Forbidden(
                "this form is stale (its CSRF token is missing or from another session): reload \
                 the page and try again"
                    .into(),
            )));
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(user);
    Ok((req, set_cookie))
}
