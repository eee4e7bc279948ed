//! The error type the webview sees.
//!
//! [`IpcError`] is built only from the core's sanitised [`ErrorInfo`] or from fixed text:
//! no `to_string()` of an arbitrary error ever crosses into the UI, because transport
//! errors can carry URLs or bodies that hold tokens.

use serde::Serialize;
use tillkey_core::ErrorInfo;
use ts_rs::TS;

/// An error as the UI shows it: a stable code, a plain-language message and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct IpcError {
    /// Stable machine-readable code (`already_exists`, `keyring_locked`, …).
    pub code: String,
    /// Plain-language message; never contains a secret.
    pub message: String,
    /// What to do about it, where there is something to do.
    pub hint: Option<String>,
    /// The form field the error is about (`name`, `client_id`, …), so the UI can show it
    /// next to that input.
    pub field: Option<String>,
}

impl IpcError {
    /// A failure inside the app shell itself (a worker thread died, …). Details stay in the
    /// log; the UI gets a fixed message.
    pub fn internal() -> Self {
        Self {
            code: "internal".into(),
            message: "Something went wrong inside Tillkey.".into(),
            hint: Some("Try again. If it keeps happening, restart Tillkey.".into()),
            field: None,
        }
    }

    /// An error with fixed text of the app shell's own (clipboard, notifications).
    pub fn app(code: &str, message: &str, hint: &str) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            hint: Some(hint.into()),
            field: None,
        }
    }
}

impl From<ErrorInfo> for IpcError {
    fn from(info: ErrorInfo) -> Self {
        let ErrorInfo { code, message, hint } = info;
        Self {
            code,
            message,
            hint,
            field: None,
        }
    }
}

impl From<tillkey_core::Error> for IpcError {
    fn from(err: tillkey_core::Error) -> Self {
        let field = match &err {
            tillkey_core::Error::InvalidInput { field, .. } | tillkey_core::Error::MissingField { field, .. } => {
                Some(if field == "env" {
                    "environment".to_string()
                } else {
                    field.clone()
                })
            }
            tillkey_core::Error::AlreadyExists(_) => Some("name".to_string()),
            _ => None,
        };
        IpcError {
            field,
            ..err.info().into()
        }
    }
}

/// Result of every command.
pub type IpcResult<T> = Result<T, IpcError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_from_the_core_error_info() {
        let err = tillkey_core::Error::AlreadyExists("shop".into());
        let ipc = IpcError::from(err);
        assert_eq!(ipc.code, "already_exists");
        assert!(ipc.message.contains("shop"));
        assert!(ipc.hint.is_some());
        assert_eq!(ipc.field.as_deref(), Some("name"));
    }

    #[test]
    fn input_errors_name_their_field() {
        let err = tillkey_core::Error::MissingField {
            field: "client_id".into(),
            provider: "mypos".into(),
        };
        assert_eq!(IpcError::from(err).field.as_deref(), Some("client_id"));
        let err = tillkey_core::Error::NotFound("x".into());
        assert_eq!(IpcError::from(err).field, None);
    }

    #[test]
    fn serializes_as_the_ui_expects() {
        let ipc = IpcError {
            code: "c".into(),
            message: "m".into(),
            hint: None,
            field: Some("name".into()),
        };
        let json = serde_json::to_value(&ipc).expect("IpcError serializes");
        assert_eq!(
            json,
            serde_json::json!({ "code": "c", "message": "m", "hint": null, "field": "name" })
        );
    }

    #[test]
    fn internal_error_has_no_details() {
        let ipc = IpcError::internal();
        assert_eq!(ipc.code, "internal");
    }
}
