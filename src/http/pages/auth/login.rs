//! The sign-in form (the API token, typed once, starts a session), and signing out.

use super::*;

const LOGIN_COOKIE: &str = "pm_login";

/// Where to go after signing in: a path on this service, else the incident list.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() < 2000
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/incidents".into(),
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    next: &str,
    error: Option<&str>,
    name: &str,
) -> Response {
    let token = random_secret();
    let mut ctx = tera::Context::new();
    ctx.insert("title", "Sign in");
    ctx.insert("login_csrf", &token);
    ctx.insert("next", next);
    ctx.insert("error", &error);
    ctx.insert("name", name);
    ctx.insert("proxy_header", &state.config.auth_proxy_header);
    let mut resp = match state.pages.render("web/login.html.tera", &ctx) {
        Ok(html) => (status, html).into_response(),
        Err(e) => PageError(e).into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&cookie(state, LOGIN_COOKIE, &token, "/login", 3600)) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    harden(&mut resp);
    resp
}

/// `GET /login`: the sign-in form (straight on when already signed in, or when open).
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let next = safe_next(q.as_ref().ok().and_then(|q| q.next.as_deref()));
    if state.config.api_token.is_none() {
        return Redirect::to(&next).into_response();
    }
    if matches!(proxy_user(&state, &headers), Ok(Some(_))) {
        return Redirect::to(&next).into_response();
    }
    if let Ok(Some((_, None))) = identify(&state, &headers).await {
        return Redirect::to(&next).into_response();
    }
    login_page(&state, StatusCode::OK, &next, None, "")
}

/// `POST /login`: the API token (and an optional name to record) starts a session.
pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    let Some(expected) = state.config.api_token.clone() else {
        return Redirect::to("/incidents").into_response();
    };
    let (parts, body) = req.into_parts();
    let refuse = |e: Error| {
        let mut r = PageError(e).into_response();
        harden(&mut r);
        r
    };
    if let Err(e) = origin_allowed(&state, &parts.headers) {
        return refuse(e);
    }
    let bytes = match read_body(&parts.headers, body).await {
        Ok(b) => b,
        Err(e) => return refuse(e),
    };
    let fields: Vec<(String, String)> = match serde_urlencoded::from_bytes(&bytes) {
        Ok(f) => f,
        Err(e) => return refuse(Error::BadRequest(format!("form: {e}"))),
    };
    let field = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
    let next = safe_next(field("next"));
    let login_token = read_cookie(&parts.headers, LOGIN_COOKIE);
    if !matches!((login_token.as_deref(), field("csrf")), (Some(c), Some(f)) if equal(c, f)) {
        return refuse(Error::Forbidden(
            "the sign-in form is stale: reload it and try again".into(),
        ));
    }
    let name_raw = field("name").unwrap_or("").trim().to_string();
    if !field("token").is_some_and(|t| equal(t.trim(), expected.expose_secret())) {
        // Slows guessing; the token is the only secret here.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        return login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &next,
            Some("That is not the API token."),
            &name_raw,
        );
    }
    let name = if name_raw.is_empty() {
        "operator".to_string()
    } else {
        match crate::review::person_name(&name_raw) {
            Ok(n) => n,
            Err(e) => {
                return login_page(
                    &state,
                    StatusCode::BAD_REQUEST,
                    &next,
                    Some(&e.to_string()),
                    "",
                );
            }
        }
    };
    match start_session(&state, name, "token").await {
        Ok((user, set)) => {
            tracing::info!(user = %user.name, "signed in to the web pages");
            let mut resp = Redirect::to(&next).into_response();
            for c in [set, cookie(&state, LOGIN_COOKIE, "", "/login", 0)] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            harden(&mut resp);
            resp
        }
        Err(e) => refuse(e),
    }
}

/// `POST /logout`: ends the session.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(secret) = read_cookie(&headers, session_cookie_name(&state))
        && let Err(e) = state.store.delete_web_session(&hash(&secret)).await
    {
        return PageError(e.into()).into_response();
    }
    let mut resp = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie(&state, session_cookie_name(&state), "", "/", 0)) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_service_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/incidents/P1?x=1")), "/incidents/P1?x=1");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "", "x"] {
            assert_eq!(safe_next(Some(bad)), "/incidents", "{bad}");
        }
        assert_eq!(safe_next(None), "/incidents");
    }
}
