//! eReceipt simulator: OAuth2 client credentials on the identity service, with the POS
//! device headers.
//!
//! `POST /connect/token` with headers `posserial` (≤100), `pososversion` (≤50),
//! `posmodelframework` (≤10), `presharedkey` (≤200) and form body `grant_type` (≤20),
//! `client_id` (≤100), `client_secret` (≤100), optional `scope` (≤200):
//! 200 `{"access_token": <JWT>, "token_type": "Bearer", "expires_in": 3600, "scope":
//! "InvoicingAPI"}`. The JWT carries the taxpayer tags in a `tags` claim (e.g.
//! `["B2B", "B2C"]`, configurable per client through [`crate::PosDevice`]), and `sub`,
//! `client_id`, `posserial`, `iat`, `nbf`, `exp`, `scope`.
//!
//! Every error is HTTP 400 with a body `{"error": "<code>"}` only, checked in this order:
//! 1. `invalid_request`: not a form body, a missing or repeated body parameter, or one
//!    longer than documented;
//! 2. `unsupported_grant_type`: `grant_type` is not `client_credentials`;
//! 3. `unauthorized_client`: unknown `client_id`, or the client is blocked or expired;
//! 4. `invalid_clientsecret`: wrong `client_secret`;
//! 5. `invalid_posserial`, `invalid_pososversion`, `invalid_posmodelframework`,
//!    `invalid_presharedkey`: that header is missing, empty, longer than documented, or
//!    not the value registered for the client;
//! 6. `invalid_scope`: a requested scope the client may not have (default allowed:
//!    `InvoicingAPI`).
//!
//! `GET /api/ping` with `Authorization: Bearer`: 200 `{"status": "ok", "tags": [...],
//! "b2c": bool}`, or 401 `invalid_token` (missing, unknown, revoked or expired token).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::http::{
    api_auth, has_content_type, host, json_response, limited, no_store, parse_form, read_body, scope_tokens,
};
use crate::issue::{issue, Format, Grant};
use crate::state::{SimState, ANONYMOUS};

/// Token endpoint path (on the identity service).
pub const TOKEN_PATH: &str = "/connect/token";
/// Protected endpoint used as `test_url`.
pub const PING_PATH: &str = "/api/ping";
/// Scope granted when none is requested, and allowed by default.
pub const DEFAULT_SCOPE: &str = "InvoicingAPI";
/// The POS headers with their documented maximum lengths and error codes.
pub const POS_HEADERS: [(&str, usize, &str); 4] = [
    ("posserial", 100, "invalid_posserial"),
    ("pososversion", 50, "invalid_pososversion"),
    ("posmodelframework", 10, "invalid_posmodelframework"),
    ("presharedkey", 200, "invalid_presharedkey"),
];
/// Documented maximum lengths of the body parameters.
pub const BODY_LIMITS: [(&str, usize); 4] = [
    ("grant_type", 20),
    ("client_id", 100),
    ("client_secret", 100),
    ("scope", 200),
];

/// The eReceipt router over `state`.
pub fn router(state: SimState) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route(PING_PATH, get(ping))
        .with_state(state)
}

fn error(code: &str) -> Response {
    no_store(json_response(StatusCode::BAD_REQUEST, json!({ "error": code })))
}

async fn token(State(st): State<SimState>, headers: HeaderMap, body: Body) -> Response {
    let form = match read_body(body, st.max_body()).await {
        Ok(bytes) if has_content_type(&headers, "application/x-www-form-urlencoded") => parse_form(&bytes).ok(),
        Ok(_) => None,
        Err(_) => return limited(&st, ANONYMOUS, || error("invalid_request")),
    };
    let key = form
        .as_ref()
        .and_then(|f| f.get("client_id").cloned())
        .unwrap_or_else(|| ANONYMOUS.to_owned());
    st.record_token_request(&key);
    limited(&st, &key, || {
        let Some(form) = form else {
            return error("invalid_request");
        };
        let too_long = BODY_LIMITS
            .iter()
            .any(|(name, max)| form.get(*name).is_some_and(|v| v.chars().count() > *max));
        let (Some(grant_type), Some(client_id), Some(client_secret)) =
            (form.get("grant_type"), form.get("client_id"), form.get("client_secret"))
        else {
            return error("invalid_request");
        };
        if too_long {
            return error("invalid_request");
        }
        if grant_type != "client_credentials" {
            return error("unsupported_grant_type");
        }
        let Some(client) = st.client(client_id).filter(|c| !c.blocked) else {
            return error("unauthorized_client");
        };
        if &client.client_secret != client_secret {
            return error("invalid_clientsecret");
        }
        let device = client.pos_device.clone();
        for (name, max, code) in POS_HEADERS {
            let value = headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
            let expected = device.as_ref().map(|d| match name {
                "posserial" => d.posserial.as_str(),
                "pososversion" => d.pososversion.as_str(),
                "posmodelframework" => d.posmodelframework.as_str(),
                _ => d.presharedkey.as_str(),
            });
            let ok = match value {
                None => false,
                Some(v) => !v.is_empty() && v.chars().count() <= max && expected.is_none_or(|e| e == v),
            };
            if !ok {
                return error(code);
            }
        }
        let scope = match form.get("scope") {
            None => DEFAULT_SCOPE.to_owned(),
            Some(requested) => {
                let tokens = scope_tokens(requested);
                let allowed = |s: &String| {
                    if client.scopes.is_empty() {
                        s == DEFAULT_SCOPE
                    } else {
                        client.scopes.contains(s)
                    }
                };
                if tokens.is_empty() || !tokens.iter().all(allowed) {
                    return error("invalid_scope");
                }
                tokens.join(" ")
            }
        };
        let tags = device
            .as_ref()
            .map(|d| d.tags.clone())
            .unwrap_or_else(|| vec!["B2B".to_owned(), "B2C".to_owned()]);
        let posserial = headers
            .get("posserial")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim()
            .to_owned();
        let mut claims = Map::new();
        claims.insert("iss".into(), Value::from(format!("http://{}", host(&headers))));
        claims.insert("aud".into(), Value::from(scope.clone()));
        claims.insert("client_id".into(), Value::from(client.client_id.clone()));
        claims.insert("scope".into(), Value::from(scope.clone()));
        claims.insert("posserial".into(), Value::from(posserial));
        claims.insert("tags".into(), Value::from(tags.clone()));
        let (access_token, expires_in) = issue(
            &st,
            Grant {
                client_id: client.client_id.clone(),
                subject: client.client_id.clone(),
                scope: Some(scope.clone()),
                audience: None,
                tags,
            },
            Format::Jwt(claims),
        );
        no_store(json_response(
            StatusCode::OK,
            json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": expires_in,
                "scope": scope,
            }),
        ))
    })
}

async fn ping(State(st): State<SimState>, headers: HeaderMap) -> Response {
    let (key, auth) = api_auth(&st, &headers);
    st.record_api_call(&key);
    limited(&st, &key, || match auth {
        Err(resp) => resp,
        Ok(t) => {
            let b2c = t.tags.iter().any(|t| t == "B2C");
            json_response(
                StatusCode::OK,
                json!({ "status": "ok", "client_id": t.client_id, "tags": t.tags, "b2c": b2c }),
            )
        }
    })
}
