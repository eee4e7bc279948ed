//! Chimpy simulator: OAuth2 password grant with a JSON body, refresh tokens with
//! rotation, and a JWT-protected PoS API.
//!
//! `POST /oauth/token` with `Content-Type: application/json`:
//! - password grant `{"grant_type": "password", "client_id", "audience", "username",
//!   "password", "scope"?}`: 200 `{"access_token": <JWT with exp>, "expires_in",
//!   "token_type": "Bearer"}`, plus `"refresh_token"` and `"scope"` only when the scope
//!   contains `offline_access`.
//! - refresh grant `{"grant_type": "refresh_token", "client_id", "audience",
//!   "refresh_token"}`: a new access token and a new refresh token; the old refresh
//!   token is invalid from then on (rotation).
//!
//! Errors: 400 `invalid_request` (not a JSON object, wrong Content-Type, a missing
//! field — `client_id` and `audience` are required for both grants), 400
//! `unsupported_grant_type`, 401 `invalid_client` (unknown or blocked client, or a
//! wrong `client_secret` when one is sent and the client has one), 403 `access_denied`
//! ("Service not found: …", an audience the client may not use), 400 `invalid_grant`
//! ("Wrong email or password." for a bad user or password; "Unknown or invalid refresh
//! token." for a used, revoked, expired or foreign refresh token), 400 `invalid_scope`.
//!
//! `GET /api/v2/ping` (and any other `/api/v2/...` path, which then gives 404) requires
//! `Authorization: Bearer <access_token>`: 401 `invalid_token` when it is missing,
//! unknown, revoked or expired.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::http::{
    api_auth, has_content_type, host, json_response, limited, no_store, not_found, oauth_error, read_body, scope_tokens,
};
use crate::issue::{issue, Format, Grant};
use crate::jwt::opaque_token;
use crate::state::{RefreshCheck, SimState, ANONYMOUS};

/// Token endpoint path.
pub const TOKEN_PATH: &str = "/oauth/token";
/// PoS API base path (`api_base` is `{base_url}/api/v2`).
pub const API_BASE_PATH: &str = "/api/v2";
/// Protected endpoint used as `test_url`.
pub const PING_PATH: &str = "/api/v2/ping";
/// Scopes any client may request.
pub const DEFAULT_SCOPES: [&str; 4] = ["offline_access", "openid", "profile", "email"];

/// The Chimpy router over `state`.
pub fn router(state: SimState) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route(PING_PATH, get(ping))
        .route("/api/v2/{*rest}", any(other))
        .with_state(state)
}

fn bad_request(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

async fn token(State(st): State<SimState>, headers: HeaderMap, body: Body) -> Response {
    let body: Result<Map<String, Value>, &str> = match read_body(body, st.max_body()).await {
        Ok(_) if !has_content_type(&headers, "application/json") => Err("Content-Type must be application/json"),
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err("Request body must be a JSON object"),
        },
        Err(resp) => return limited(&st, ANONYMOUS, || resp),
    };
    let field = |name: &str| -> Option<String> {
        body.as_ref()
            .ok()
            .and_then(|m| m.get(name))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let client_id = field("client_id");
    let key = client_id.clone().unwrap_or_else(|| ANONYMOUS.to_owned());
    st.record_token_request(&key);
    let grant_type = field("grant_type");
    match grant_type.as_deref() {
        Some("password") => st.record_password_grant(&key),
        Some("refresh_token") => st.record_refresh_grant(&key),
        _ => {}
    }
    let (audience, username, password, scope, refresh, secret) = (
        field("audience"),
        field("username"),
        field("password"),
        field("scope"),
        field("refresh_token"),
        field("client_secret"),
    );
    limited(&st, &key, || {
        if let Err(e) = &body {
            return bad_request(e);
        }
        let Some(grant_type) = grant_type else {
            return bad_request("Missing required parameter: grant_type");
        };
        if grant_type != "password" && grant_type != "refresh_token" {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("Unsupported grant type: {grant_type}"),
            );
        }
        let Some(client_id) = client_id else {
            return bad_request("Missing required parameter: client_id");
        };
        let Some(audience) = audience else {
            return bad_request("Missing required parameter: audience");
        };
        let client = st.client(&client_id).filter(|c| !c.blocked);
        let client = match (client, secret) {
            (Some(c), Some(s)) if !c.client_secret.is_empty() && c.client_secret != s => None,
            (c, _) => c,
        };
        let Some(client) = client else {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unknown client");
        };
        if !client.audiences.is_empty() && !client.audiences.contains(&audience) {
            return oauth_error(
                StatusCode::FORBIDDEN,
                "access_denied",
                &format!("Service not found: {audience}"),
            );
        }
        let (username, scope) = if grant_type == "password" {
            let (Some(username), Some(password)) = (username, password) else {
                return bad_request("Missing required parameter: username and password");
            };
            if !st.user_password_ok(&username, &password) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Wrong email or password.");
            }
            let scope = scope.unwrap_or_default();
            let allowed = |s: &String| DEFAULT_SCOPES.contains(&s.as_str()) || client.scopes.contains(s);
            if !scope_tokens(&scope).iter().all(allowed) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "The requested scope is not allowed",
                );
            }
            (username, scope)
        } else {
            let Some(refresh) = refresh else {
                return bad_request("Missing required parameter: refresh_token");
            };
            let invalid = || {
                oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Unknown or invalid refresh token.",
                )
            };
            let record = match st.take_refresh(&refresh) {
                RefreshCheck::Valid(r) => r,
                RefreshCheck::Invalid => return invalid(),
            };
            if record.client_id != client.client_id || record.audience != audience {
                st.restore_refresh(&refresh, record);
                return invalid();
            }
            if !st.user_exists(&record.username) {
                return invalid();
            }
            (record.username, record.scope)
        };
        let offline = scope_tokens(&scope).iter().any(|s| s == "offline_access");
        let mut claims = Map::new();
        claims.insert("iss".into(), Value::from(format!("http://{}/", host(&headers))));
        claims.insert("aud".into(), Value::from(audience.clone()));
        claims.insert("azp".into(), Value::from(client.client_id.clone()));
        claims.insert("gty".into(), Value::from(grant_type.clone()));
        if !scope.is_empty() {
            claims.insert("scope".into(), Value::from(scope.clone()));
        }
        let (access_token, expires_in) = issue(
            &st,
            Grant {
                client_id: client.client_id.clone(),
                subject: username.clone(),
                scope: (!scope.is_empty()).then(|| scope.clone()),
                audience: Some(audience.clone()),
                tags: Vec::new(),
            },
            Format::Jwt(claims),
        );
        let mut out = json!({
            "access_token": access_token,
            "expires_in": expires_in,
            "token_type": "Bearer",
        });
        if offline {
            let refresh_token = opaque_token(48);
            st.register_refresh(&refresh_token, &client.client_id, &audience, &username, &scope);
            out["refresh_token"] = refresh_token.into();
            out["scope"] = scope.into();
        }
        no_store(json_response(StatusCode::OK, out))
    })
}

async fn ping(State(st): State<SimState>, headers: HeaderMap) -> Response {
    let (key, auth) = api_auth(&st, &headers);
    st.record_api_call(&key);
    limited(&st, &key, || match auth {
        Err(resp) => resp,
        Ok(t) => json_response(
            StatusCode::OK,
            json!({ "status": "ok", "user": t.subject, "audience": t.audience }),
        ),
    })
}

async fn other(State(st): State<SimState>, headers: HeaderMap) -> Response {
    let (key, auth) = api_auth(&st, &headers);
    st.record_api_call(&key);
    limited(&st, &key, || match auth {
        Err(resp) => resp,
        Ok(_) => not_found(),
    })
}
