//! Paysera POS simulator: Personal Access Token (Bearer) authentication.
//!
//! - `GET /eapi/v1/orders?page=N&per_page=M` with `Authorization: Bearer <PAT>` answers
//!   200 with the documented shape `{"data": [...], "itemsTotal": 250, "pagesTotal": …,
//!   "links": {...}}`.
//! - No Authorization header: 401 `{"error":"unauthorized","error_description":"Missing
//!   authorization header","error_code":"AUTH001"}`.
//! - Unknown, malformed, revoked or expired token: 401 `{"error":"invalid_token",
//!   "error_description":"The access token is invalid or has been revoked",
//!   "error_code":"AUTH002"}`.
//! - Token registered without permission: 403 `{"error":"forbidden","error_description":
//!   "Access to this resource is not allowed","error_code":"AUTH003"}`.
//! - Any other `/eapi/v1/...` path: the same authentication, then 404.
//!
//! Requests are rate limited per token name; requests without `Accept:
//! application/json` are counted ([`crate::Stats::missing_accept_json`]).

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{any, get};
use axum::Router;
use serde_json::{json, Value};

use crate::http::{bearer, json_response, limited, not_found, parse_form, Bearer};
use crate::state::{PatCheck, SimState, ANONYMOUS};

/// API base path (`api_base` is `{base_url}/eapi/v1`).
pub const API_BASE_PATH: &str = "/eapi/v1";
/// The orders endpoint used as the connectivity test.
pub const ORDERS_PATH: &str = "/eapi/v1/orders";
/// Path and query of the documented connectivity test.
pub const TEST_PATH: &str = "/eapi/v1/orders?page=1&per_page=1";
/// Number of simulated orders.
pub const ITEMS_TOTAL: u64 = 250;

/// The Paysera POS router over `state`.
pub fn router(state: SimState) -> Router {
    Router::new()
        .route(ORDERS_PATH, get(orders))
        .route("/eapi/v1/{*rest}", any(other))
        .with_state(state)
}

fn auth_error(status: StatusCode, error: &str, description: &str, code: &str) -> Response {
    json_response(
        status,
        json!({ "error": error, "error_description": description, "error_code": code }),
    )
}

fn auth001() -> Response {
    auth_error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Missing authorization header",
        "AUTH001",
    )
}

fn auth002() -> Response {
    auth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "The access token is invalid or has been revoked",
        "AUTH002",
    )
}

fn auth003() -> Response {
    auth_error(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Access to this resource is not allowed",
        "AUTH003",
    )
}

/// Authenticates a request: the rate-limit key and the error response, if any.
fn authenticate(st: &SimState, headers: &HeaderMap) -> (String, Option<Response>) {
    let accepts_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("application/json"));
    if !accepts_json {
        st.record_missing_accept_json();
    }
    match bearer(headers) {
        Bearer::Missing => (ANONYMOUS.to_owned(), Some(auth001())),
        Bearer::Malformed => (ANONYMOUS.to_owned(), Some(auth002())),
        Bearer::Token(t) => match st.check_pat(&t) {
            PatCheck::Unknown => (ANONYMOUS.to_owned(), Some(auth002())),
            PatCheck::Revoked(name) | PatCheck::Expired(name) => (name, Some(auth002())),
            PatCheck::Valid { name, permitted: false } => (name, Some(auth003())),
            PatCheck::Valid { name, permitted: true } => (name, None),
        },
    }
}

async fn orders(State(st): State<SimState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let (key, error) = authenticate(&st, &headers);
    st.record_api_call(&key);
    limited(&st, &key, || match error {
        Some(resp) => resp,
        None => list_orders(query.as_deref().unwrap_or("")),
    })
}

async fn other(State(st): State<SimState>, headers: HeaderMap) -> Response {
    let (key, error) = authenticate(&st, &headers);
    st.record_api_call(&key);
    limited(&st, &key, || error.unwrap_or_else(not_found))
}

fn bad_parameter(description: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({ "error": "invalid_parameters", "error_description": description }),
    )
}

fn list_orders(query: &str) -> Response {
    let Ok(params) = parse_form(query.as_bytes()) else {
        return bad_parameter("Malformed query string");
    };
    let number = |name: &str, default: u64| -> Option<u64> {
        match params.get(name) {
            None => Some(default),
            Some(v) => v.parse::<u64>().ok().filter(|n| *n >= 1),
        }
    };
    let (Some(page), Some(per_page)) = (number("page", 1), number("per_page", 20)) else {
        return bad_parameter("page and per_page must be positive integers");
    };
    if per_page > 100 {
        return bad_parameter("per_page must be at most 100");
    }
    let pages_total = ITEMS_TOTAL.div_ceil(per_page);
    let start = page.saturating_sub(1).saturating_mul(per_page);
    let end = start.saturating_add(per_page).min(ITEMS_TOTAL);
    const STATUSES: [&str; 3] = ["completed", "pending", "cancelled"];
    let data: Vec<Value> = (start..end)
        .map(|i| {
            json!({
                "id": 123 + i,
                "number": format!("ORD-{:03}", i + 1),
                "status": STATUSES[usize::try_from(i % 3).unwrap_or(0)],
            })
        })
        .collect();
    let link = |p: u64| format!("{ORDERS_PATH}?page={p}&per_page={per_page}");
    json_response(
        StatusCode::OK,
        json!({
            "data": data,
            "itemsTotal": ITEMS_TOTAL,
            "pagesTotal": pages_total,
            "links": {
                "first": link(1),
                "last": link(pages_total),
                "prev": if page > 1 { Value::from(link(page - 1)) } else { Value::Null },
                "next": if page < pages_total { Value::from(link(page + 1)) } else { Value::Null },
            },
        }),
    )
}
