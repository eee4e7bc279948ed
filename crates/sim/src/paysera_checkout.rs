//! Paysera Checkout simulator: OAuth2 client credentials with the credentials in the
//! form body (Keycloak-style realm endpoint).
//!
//! - `POST /auth/realms/Paysera/protocol/openid-connect/token`, form body
//!   `grant_type=client_credentials&client_id=…&client_secret=…` (optional `scope`):
//!   200 `{"access_token": <JWT>, "expires_in": 3600, "refresh_expires_in": 0,
//!   "token_type": "Bearer", "not-before-policy": 0, "scope": "profile email"}`.
//!   Errors: 400 `invalid_request` (not a form body, missing or repeated parameter),
//!   400 `unsupported_grant_type`, 401 `invalid_client` ("Invalid client credentials":
//!   unknown client, wrong secret, blocked client, or no credentials in the body — HTTP
//!   Basic is not documented and not accepted), 400 `invalid_scope`.
//! - `GET /checkout-project/integration/v1/methods` with `Authorization: Bearer`: 200 with
//!   a list of payment methods; 401 `{"error":"invalid_token","error_description":"Token
//!   is expired"}` for expired tokens, "Token is not active" for unknown ones, "Token has
//!   been revoked" for revoked ones.
//!
//! Every response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
//! `X-RateLimit-Reset` (seconds until the window resets); over the limit: 429 with
//! `Retry-After`. The document limits per client IP; the simulator, like every other
//! one, limits per client id.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::http::{
    api_auth, has_content_type, host, json_response, limited, no_store, oauth_error, parse_form, read_body,
    scope_tokens,
};
use crate::issue::{issue, Format, Grant};
use crate::state::{SimState, ANONYMOUS};

/// Token endpoint path.
pub const TOKEN_PATH: &str = "/auth/realms/Paysera/protocol/openid-connect/token";
/// The API endpoint used as the connectivity test.
pub const METHODS_PATH: &str = "/checkout-project/integration/v1/methods";
/// Scopes granted when none is requested.
pub const DEFAULT_SCOPES: [&str; 2] = ["profile", "email"];

/// The Paysera Checkout router over `state`.
pub fn router(state: SimState) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route(METHODS_PATH, get(methods))
        .with_state(state)
}

async fn token(State(st): State<SimState>, headers: HeaderMap, body: Body) -> Response {
    let form = match read_body(body, st.max_body()).await {
        Ok(bytes) if has_content_type(&headers, "application/x-www-form-urlencoded") => parse_form(&bytes),
        Ok(_) => Err("Content-Type must be application/x-www-form-urlencoded".to_owned()),
        Err(resp) => return limited(&st, ANONYMOUS, || resp),
    };
    let key = form
        .as_ref()
        .ok()
        .and_then(|f| f.get("client_id").cloned())
        .unwrap_or_else(|| ANONYMOUS.to_owned());
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
                "Missing form parameter: grant_type",
            );
        };
        if grant_type != "client_credentials" {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Unsupported grant_type",
            );
        }
        let client = match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => st.authenticate(id, secret),
            _ => None,
        };
        let Some(client) = client else {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Invalid client credentials");
        };
        let mut granted: Vec<String> = DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        if let Some(requested) = form.get("scope") {
            for s in scope_tokens(requested) {
                let allowed = DEFAULT_SCOPES.contains(&s.as_str()) || client.scopes.contains(&s);
                if !allowed {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "Invalid scopes");
                }
                if !granted.contains(&s) {
                    granted.push(s);
                }
            }
        }
        let scope = granted.join(" ");
        let mut claims = Map::new();
        claims.insert(
            "iss".into(),
            Value::from(format!("http://{}/auth/realms/Paysera", host(&headers))),
        );
        claims.insert("typ".into(), Value::from("Bearer"));
        claims.insert("azp".into(), Value::from(client.client_id.clone()));
        claims.insert("clientId".into(), Value::from(client.client_id.clone()));
        claims.insert("scope".into(), Value::from(scope.clone()));
        let (access_token, expires_in) = issue(
            &st,
            Grant {
                client_id: client.client_id.clone(),
                subject: client.client_id.clone(),
                scope: Some(scope.clone()),
                audience: None,
                tags: Vec::new(),
            },
            Format::Jwt(claims),
        );
        no_store(json_response(
            StatusCode::OK,
            json!({
                "access_token": access_token,
                "expires_in": expires_in,
                "refresh_expires_in": 0,
                "token_type": "Bearer",
                "not-before-policy": 0,
                "scope": scope,
            }),
        ))
    })
}

async fn methods(State(st): State<SimState>, headers: HeaderMap) -> Response {
    let (key, auth) = api_auth(&st, &headers);
    st.record_api_call(&key);
    limited(&st, &key, || match auth {
        Err(resp) => resp,
        Ok(_) => json_response(
            StatusCode::OK,
            json!({
                "items": [
                    { "key": "card", "title": "Payment cards", "countries": ["LT", "LV", "EE"] },
                    { "key": "swedbank", "title": "Swedbank", "countries": ["LT"] },
                    { "key": "wallet", "title": "Paysera wallet", "countries": ["*"] },
                ],
                "_metadata": { "total": 3, "offset": 0, "limit": 3 },
            }),
        ),
    })
}
