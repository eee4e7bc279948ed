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
}

impl IpcError {
    /// A failure inside the app shell itself (a worker thread died, …). Details stay in the
    /// log; the UI gets a fixed message.
    pub fn internal() -> Self {
        Self {
            code: "internal".into(),
            message: "Something went wrong inside Tillkey.".into(),
            hint: Some("Try again. If it keeps happening, restart Tillkey.".into()),
        }
    }
}

impl From<ErrorInfo> for IpcError {
    fn from(info: ErrorInfo) -> Self {
        let ErrorInfo {
            code,
            message,
            hint,
        } = info;
        Self {
            code,
            message,
            hint,
        }
    }
}

impl From<tillkey_core::Error> for IpcError {
    fn from(err: tillkey_core::Error) -> Self {
        err.info().into()
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
    }

    #[test]
    fn serializes_as_the_ui_expects() {
        let ipc = IpcError {
            code: "c".into(),
            message: "m".into(),
            hint: None,
        };
        let json = serde_json::to_value(&ipc).expect("IpcError serializes");
        assert_eq!(
            json,
            serde_json::json!({ "code": "c", "message": "m", "hint": null })
        );
    }

    #[test]
    fn internal_error_has_no_details() {
        let ipc = IpcError::internal();
        assert_eq!(ipc.code, "internal");
    }
}
