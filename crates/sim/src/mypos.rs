//! myPOS simulator: OAuth2 client credentials with HTTP Basic client authentication.
//!
//! - `POST /oauth/token`, `Authorization: Basic base64(client_id:client_secret)` (the
//!   semicolon separator the document's text mentions is accepted too), form body
//!   `grant_type=client_credentials`, optional `scope=webhooks`: 200
//!   `{"access_token": <opaque 42 chars>, "token_type": "Bearer", "expires_in": 3600}`
//!   (plus `"scope"` when one was requested).
//!   Errors: 400 `invalid_request` (not a form body, missing or repeated parameter), 400
//!   `unsupported_grant_type` (`authorization_code`, `refresh_token` or anything but
//!   `client_credentials`: the document says only client credentials is supported),
//!   401 `invalid_client` with `WWW-Authenticate: Basic` (no or malformed Basic header,
//!   unknown client, wrong secret, blocked client), 400 `invalid_scope`.
//! - `POST /oauth/revoke`, Basic as above, form body `token=…`: 200 with an empty body
//!   (RFC 7009: also for unknown tokens; a token of another client is left alone);
//!   401 `invalid_client`; 400 `invalid_request` without `token`.
//! - `GET /api/ping` with `Authorization: Bearer`: 200, or 401 `invalid_token` for a
//!   missing, unknown, revoked or expired token (the document names no API endpoint;
//!   this one serves as `test_url`).
//! - Rotation: the myPOS Account generates a new set (client ID and secret) next to the
//!   old one ([`SimState::issue_new_set`]); both work until the merchant deletes the old
//!   set ([`SimState::remove_client`]), and each set revokes only its own tokens.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use crate::http::{
    api_auth, basic, basic_client, bearer_token_response, has_content_type, invalid_client_basic, json_response,
    limited, oauth_error, parse_form, read_body, revoke_own_token, scope_tokens, Basic,
};
use crate::issue::{issue, Format, Grant};
use crate::state::{ClientConfig, SimState, ANONYMOUS};

/// Token endpoint path.
pub const TOKEN_PATH: &str = "/oauth/token";
/// Revocation endpoint path.
pub const REVOKE_PATH: &str = "/oauth/revoke";
/// Protected endpoint used as `test_url`.
pub const PING_PATH: &str = "/api/ping";
/// Scopes a client may request when its configuration names none.
pub const DEFAULT_SCOPES: [&str; 1] = ["webhooks"];
const REALM: &str = "myPOS";

/// The myPOS router over `state`.
pub fn router(state: SimState) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route(REVOKE_PATH, post(revoke))
        .route(PING_PATH, get(ping))
        .with_state(state)
}

/// A request read and its client authenticated (errors kept for the handler to order).
struct Prepared {
    key: String,
    form: Result<HashMap<String, String>, String>,
    client: Result<ClientConfig, &'static str>,
}

/// Reads the body and the Basic credentials.
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
    let (key, client) = match basic(headers, true) {
        Basic::Absent => (ANONYMOUS.to_owned(), Err("HTTP Basic client authentication required")),
        Basic::Malformed => (ANONYMOUS.to_owned(), Err("Malformed HTTP Basic credentials")),
        Basic::Credentials(creds) => match basic_client(st, &creds) {
            (key, Some(c)) => (key, Ok(c)),
            (key, None) => (key, Err("Client authentication failed")),
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
        let Some(grant_type) = form.get("grant_type") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The grant type was not specified in the request",
            );
        };
        if grant_type != "client_credentials" {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server",
            );
        }
        let client = match client {
            Ok(c) => c,
            Err(e) => return invalid_client_basic(e, REALM),
        };
        let scope = form.get("scope").cloned();
        if let Some(requested) = &scope {
            for s in scope_tokens(requested) {
                let allowed = if client.scopes.is_empty() {
                    DEFAULT_SCOPES.contains(&s.as_str())
                } else {
                    client.scopes.contains(&s)
                };
                if !allowed {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_scope",
                        "The requested scope is invalid, unknown, or malformed",
                    );
                }
            }
        }
        let (access_token, expires_in) = issue(
            &st,
            Grant {
                client_id: client.client_id.clone(),
                subject: client.client_id.clone(),
                scope: scope.clone(),
                audience: None,
                tags: Vec::new(),
            },
            Format::Opaque(42),
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
        let client = match client {
            Ok(c) => c,
            Err(e) => return invalid_client_basic(e, REALM),
        };
        st.record_revocation(&client.client_id);
        let form = match form {
            Ok(f) => f,
            Err(e) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e),
        };
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
            json!({ "status": "ok", "client_id": t.client_id, "scope": t.scope }),
        ),
    })
}
