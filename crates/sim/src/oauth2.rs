//! Generic RFC 6749 authorization server: client credentials grant with
//! `client_secret_post` or `client_secret_basic`, RFC 7009 revocation and a protected
//! API endpoint.
//!
//! - `POST /token`, form body `grant_type=client_credentials`, optional `scope` and
//!   `audience`; the client authenticates with HTTP Basic (RFC 6749 §2.3.1: id and
//!   secret form-urlencoded, plain values accepted too) or with `client_id` and
//!   `client_secret` in the body, never both. 200 `{"access_token": <JWT>,
//!   "token_type": "Bearer", "expires_in": 3600, "scope"?}`.
//!   Errors: 400 `invalid_request` (not a form body, repeated parameter, missing
//!   `grant_type`, two authentication methods, a header required with
//!   [`crate::SimState::require_token_header`] missing), 401 `invalid_client` (no or
//!   bad credentials, blocked client, or an authentication method the client is not
//!   registered for; `WWW-Authenticate: Basic` when Basic was used), 400
//!   `unsupported_grant_type`, 400 `invalid_scope`, 400 `invalid_target` (an audience
//!   the client may not use).
//! - `POST /revoke` (RFC 7009): same client authentication, form body `token`, optional
//!   `token_type_hint`; 200 with an empty body, also for unknown tokens (a token of
//!   another client is left alone); 400 `invalid_request` without `token`.
//! - `GET /api/ping` with `Authorization: Bearer`: 200, or 401 `invalid_token`.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::http::{
    api_auth, basic, basic_client, bearer_token_response, has_content_type, host, invalid_client_basic, json_response,
    limited, oauth_error, parse_form, read_body, revoke_own_token, scope_tokens, Basic,
};
use crate::issue::{issue, Format, Grant};
use crate::state::{AuthMethod, ClientConfig, SimState, ANONYMOUS};

/// Token endpoint path.
pub const TOKEN_PATH: &str = "/token";
/// RFC 7009 revocation endpoint path.
pub const REVOKE_PATH: &str = "/revoke";
/// Protected endpoint used as `test_url`.
pub const PING_PATH: &str = "/api/ping";
const REALM: &str = "tillkey-sim";

/// The generic OAuth2 router over `state`.
pub fn router(state: SimState) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route(REVOKE_PATH, post(revoke))
        .route(PING_PATH, get(ping))
        .with_state(state)
}

type Form = HashMap<String, String>;

/// A client authentication failure: the response to send.
enum AuthFailure {
    BadRequest(&'static str),
    Unauthorized(&'static str, bool),
}

impl AuthFailure {
    fn into_response(self) -> Response {
        match self {
            AuthFailure::BadRequest(d) => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", d),
            AuthFailure::Unauthorized(d, true) => invalid_client_basic(d, REALM),
            AuthFailure::Unauthorized(d, false) => oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", d),
        }
    }
}

struct Prepared {
    key: String,
    form: Result<Form, String>,
    client: Result<ClientConfig, AuthFailure>,
}

async fn prepare(st: &SimState, headers: &HeaderMap, body: Body) -> Result<Prepared, Response> {
    let bytes = match read_body(body, st.max_body()).await {
        Ok(b) => b,
        Err(resp) => return Err(limited(st, ANONYMOUS, || resp)),
    };
    let form = if has_content_type(headers, "application/x-www-form-urlencoded") {
        parse_form(&bytes)
    } else {
        Err("Content-Type must be application/x-www-form-urlencoded".to_owned())
    };
    let empty = Form::new();
    let f = form.as_ref().unwrap_or(&empty);
    let body_id = f.get("client_id");
    let body_secret = f.get("client_secret");
    let (key, client) = match basic(headers, false) {
        Basic::Credentials(_) if body_secret.is_some() => (
            body_id.cloned().unwrap_or_else(|| ANONYMOUS.to_owned()),
            Err(AuthFailure::BadRequest(
                "More than one client authentication method was used",
            )),
        ),
        Basic::Credentials(creds) => match basic_client(st, &creds) {
            (key, Some(c)) if c.auth_method == Some(AuthMethod::Post) => (
                key,
                Err(AuthFailure::Unauthorized(
                    "Client must authenticate with client_secret_post",
                    true,
                )),
            ),
            (key, Some(c)) => (key, Ok(c)),
            (key, None) => (
                key,
                Err(AuthFailure::Unauthorized("Client authentication failed", true)),
            ),
        },
        Basic::Malformed => (
            ANONYMOUS.to_owned(),
            Err(AuthFailure::Unauthorized("Malformed HTTP Basic credentials", true)),
        ),
        Basic::Absent => match (body_id, body_secret) {
            (Some(id), Some(secret)) => match st.authenticate(id, secret) {
                Some(c) if c.auth_method == Some(AuthMethod::Basic) => (
                    id.clone(),
                    Err(AuthFailure::Unauthorized(
                        "Client must authenticate with client_secret_basic",
                        false,
                    )),
                ),
                Some(c) => (id.clone(), Ok(c)),
                None => (
                    id.clone(),
                    Err(AuthFailure::Unauthorized("Client authentication failed", false)),
                ),
            },
            (id, _) => (
                id.cloned().unwrap_or_else(|| ANONYMOUS.to_owned()),
                Err(AuthFailure::Unauthorized("Client authentication required", false)),
            ),
        },
    };
    Ok(Prepared { key, form, client })
}

async fn token(State(st): State<SimState>, headers: HeaderMap, body: Body) -> Response {
    let Prepared { key, form, client } = match prepare(&st, &headers, body).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    st.record_token_request(&key);
    limited(&st, &key, || {
        let form = match form {
            Ok(f) => f,
            Err(e) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e),
        };
        for (name, value) in st.required_headers() {
            let present = headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v == value);
            if !present {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("Missing or wrong required header: {name}"),
                );
            }
        }
        let client = match client {
            Ok(c) => c,
            Err(e) => return e.into_response(),
        };
        let Some(grant_type) = form.get("grant_type") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing parameter: grant_type",
            );
        };
        if grant_type != "client_credentials" {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only client_credentials is supported",
            );
        }
        let scope = match form.get("scope") {
            Some(requested) => {
                let ok = client.scopes.is_empty() || scope_tokens(requested).iter().all(|s| client.scopes.contains(s));
                if !ok {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_scope",
                        "The requested scope is invalid or not allowed",
                    );
                }
                Some(requested.clone())
            }
            None if client.scopes.is_empty() => None,
            None => Some(client.scopes.join(" ")),
        };
        let audience = form.get("audience").cloned();
        if let Some(a) = &audience {
            if !client.audiences.is_empty() && !client.audiences.contains(a) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_target",
                    "The requested audience is not allowed for this client",
                );
            }
        }
        let mut claims = Map::new();
        claims.insert("iss".into(), Value::from(format!("http://{}", host(&headers))));
        claims.insert("client_id".into(), Value::from(client.client_id.clone()));
        if let Some(a) = &audience {
            claims.insert("aud".into(), Value::from(a.clone()));
        }
        if let Some(s) = &scope {
            claims.insert("scope".into(), Value::from(s.clone()));
        }
        let (access_token, expires_in) = issue(
            &st,
            Grant {
                client_id: client.client_id.clone(),
                subject: client.client_id.clone(),
                scope: scope.clone(),
                audience,
                tags: Vec::new(),
            },
            Format::Jwt(claims),
        );
        bearer_token_response(access_token, expires_in, scope)
    })
}

async fn revoke(State(st): State<SimState>, headers: HeaderMap, body: Body) -> Response {
    let Prepared { key, form, client } = match prepare(&st, &headers, body).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    limited(&st, &key, || {
        let form = match form {
            Ok(f) => f,
            Err(e) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e),
        };
        let client = match client {
            Ok(c) => c,
            Err(e) => return e.into_response(),
        };
        st.record_revocation(&client.client_id);
        revoke_own_token(&st, &client.client_id, &form)
    })
}

async fn ping(State(st): State<SimState>, headers: HeaderMap) -> Response {
    let (key, auth) = api_auth(&st, &headers);
    st.record_api_call(&key);
    limited(&st, &key, || match auth {
        Err(resp) => resp,
        Ok(t) => json_response(
            StatusCode::OK,
            json!({ "status": "ok", "client_id": t.client_id, "scope": t.scope, "audience": t.audience }),
        ),
    })
}
