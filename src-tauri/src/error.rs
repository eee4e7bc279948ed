//! The error type the webview sees, and the wording of hints for the window.
//!
//! [`IpcError`] is built only from the core's sanitised [`ErrorInfo`] or from fixed text:
//! no `to_string()` of an arbitrary error ever crosses into the UI, because transport
//! errors can carry URLs or bodies that hold tokens.
//!
//! The core words its hints for the command line ("run `tillkey rotate NAME`", "`--ca-file`").
//! In the window those point at the button or dialog that does the same: [`window_hint`]
//! rewords them (one table, [`WINDOW_WORDING`]), and [`ForWindow`] applies it to everything
//! that carries a hint into the webview (errors, test reports, rotation results).

use serde::Serialize;
use tillkey_core::dto::{CredentialSummary, RotationResult, TestReport};
use tillkey_core::ErrorInfo;
use ts_rs::TS;

/// Where in the window a hint is shown: some actions read differently there (a vault that
/// is not connected yet cannot be disconnected; the rotation wizard is already open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The dashboard, a row, a dialog other than the ones below.
    Window,
    /// The "Connect team vault" dialog, where the merchant is typing the connection.
    ConnectDialog,
    /// The rotation wizard, testing the new secret the merchant typed.
    RotationWizard,
}

/// One rewording: the core's text from `from` up to and including the first `until` after
/// it (just `from` when `until` is empty) becomes `window`, or the words `at` gives for
/// the place it is shown.
struct Rewording {
    from: &'static str,
    until: &'static str,
    window: &'static str,
    at: &'static [(Place, &'static str)],
}

/// Every CLI command or flag the core's hints name, and what the window says instead.
/// `window_hints_name_no_cli_command` checks every core hint against this table.
const WINDOW_WORDING: &[Rewording] = &[
    // Provider hints (static tokens, Personal Access Tokens) and expired static tokens.
    Rewording {
        from: "run `tillkey rotate NAME` with the new token",
        until: "",
        window: "choose Rotate… on this credential and enter the new token",
        at: &[(Place::RotationWizard, "enter the new token here and test it again")],
    },
    Rewording {
        from: "run `tillkey rotate ",
        until: "`",
        window: "choose Rotate… on this credential",
        at: &[(Place::RotationWizard, "enter the new token here and test it again")],
    },
    Rewording {
        from: "or run the command with --wait",
        until: "automatically",
        window: "then try again",
        at: &[],
    },
    Rewording {
        from: " (the CLI lists them with `tillkey providers`)",
        until: "",
        window: " from the list",
        at: &[],
    },
    Rewording {
        from: " (CLI: ",
        until: ")",
        window: "",
        at: &[],
    },
    Rewording {
        from: "(e.g. `tillkey` UI → Edit",
        until: ")",
        window: "(choose Edit on this credential and fill in its connectivity test URL)",
        at: &[],
    },
    // The vault passphrase.
    Rewording {
        from: "Run the command in a terminal to type the vault passphrase",
        until: "work while locked.",
        window: "Choose Unlock… at the top of the window and type the vault passphrase. Names, \
                 expiry and rotation status stay visible while locked.",
        at: &[],
    },
    // Team vaults.
    Rewording {
        from: "`tillkey vault list` shows the status of ",
        until: "`.",
        window: "The vault switcher shows its status.",
        at: &[],
    },
    Rewording {
        from: "connect with its CA file: `tillkey vault connect ",
        until: "`.",
        window: "choose Disconnect… by the vault switcher, then Connect team vault… again with its CA file.",
        at: &[(
            Place::ConnectDialog,
            "give the path of its CA file (PEM) under CA file.",
        )],
    },
    Rewording {
        from: "Connect again with a valid one: `tillkey vault disconnect ",
        until: "`.",
        window: "Choose Disconnect… by the vault switcher, then Connect team vault… again with a valid one.",
        at: &[(Place::ConnectDialog, "Type a valid one and connect again.")],
    },
    Rewording {
        from: "Connect it first with `tillkey vault connect",
        until: "the connected ones.",
        window: "Connect it first with Connect team vault… by the vault switcher, which lists the connected ones.",
        at: &[],
    },
];

/// `hint` worded for where it is shown in the window: a CLI command it names becomes the
/// button or dialog that does the same.
pub fn window_hint(hint: &str, place: Place) -> String {
    let mut out = hint.to_string();
    for rule in WINDOW_WORDING {
        let with = rule
            .at
            .iter()
            .find(|(p, _)| *p == place)
            .map_or(rule.window, |(_, words)| words);
        let mut searched = 0;
        while let Some(at) = out[searched..].find(rule.from).map(|i| i + searched) {
            let after = at + rule.from.len();
            let end = if rule.until.is_empty() {
                Some(after)
            } else {
                out[after..].find(rule.until).map(|i| after + i + rule.until.len())
            };
            let Some(end) = end else { break };
            out.replace_range(at..end, with);
            searched = at + with.len();
        }
    }
    out
}

/// `tillkey vault connect`'s flags, which the core's checks name as their field: the form
/// field of the connect dialog, and the words for the flag in a message.
const CONNECT_FLAGS: &[(&str, &str, &str)] = &[
    ("--auth approle", "auth", "the AppRole method"),
    ("--address", "address", "address"),
    ("--mount", "mount", "mount"),
    ("--prefix", "prefix", "prefix"),
    ("--auth", "auth", "auth method"),
    ("--role-id", "role_id", "role ID"),
    ("--namespace", "namespace", "namespace"),
    ("--ca-file", "ca_file", "CA file"),
    ("--retain", "retain", "retention"),
    ("--vault", "vault", "vault"),
];

/// A message with `tillkey vault connect`'s flags named as the dialog names its fields.
fn window_message(message: &str) -> String {
    CONNECT_FLAGS
        .iter()
        .fold(message.to_string(), |m, (flag, _, words)| m.replace(flag, words))
}

/// Things the app sends to the webview that may carry a core hint: each reworded for the
/// window (see [`window_hint`]).
pub trait ForWindow: Sized {
    /// `self` with every hint worded for where it is shown.
    #[must_use]
    fn shown_in(self, place: Place) -> Self;

    /// `self` with every hint worded for the window (the dashboard, a row).
    #[must_use]
    fn for_window(self) -> Self {
        self.shown_in(Place::Window)
    }
}

impl ForWindow for TestReport {
    fn shown_in(mut self, place: Place) -> Self {
        for stage in &mut self.stages {
            stage.hint = stage.hint.take().map(|h| window_hint(&h, place));
        }
        self
    }
}

impl ForWindow for CredentialSummary {
    fn shown_in(mut self, place: Place) -> Self {
        self.last_test = self.last_test.map(|t| t.shown_in(place));
        self
    }
}

/// A rotation's result is shown in the rotation wizard: its test and the old token's error
/// say what to do there; the credential goes back to the list.
impl ForWindow for RotationResult {
    fn shown_in(mut self, place: Place) -> Self {
        self.report = self.report.shown_in(place);
        self.credential = self.credential.map(ForWindow::for_window);
        if let Some(e) = &mut self.old_token_error {
            e.hint = e.hint.take().map(|h| window_hint(&h, place));
        }
        self
    }

    fn for_window(self) -> Self {
        self.shown_in(Place::RotationWizard)
    }
}

impl<T: ForWindow> ForWindow for Vec<T> {
    fn shown_in(self, place: Place) -> Self {
        self.into_iter().map(|t| t.shown_in(place)).collect()
    }
}

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

impl IpcError {
    /// The core's error as the window shows it at `place`: its message and hint worded for
    /// the window, and the form field it is about.
    pub fn shown_in(err: &tillkey_core::Error, place: Place) -> Self {
        let field = match err {
            tillkey_core::Error::InvalidInput { field, .. } | tillkey_core::Error::MissingField { field, .. } => {
                let flag = CONNECT_FLAGS.iter().find(|(flag, _, _)| flag == field);
                Some(match flag {
                    Some((_, form_field, _)) => (*form_field).to_string(),
                    None if field == "env" => "environment".to_string(),
                    None => field.clone(),
                })
            }
            tillkey_core::Error::AlreadyExists(_) => Some("name".to_string()),
            _ => None,
        };
        let ErrorInfo { code, message, hint } = err.info();
        IpcError {
            code,
            message: window_message(&message),
            hint: hint.map(|h| window_hint(&h, place)),
            field,
        }
    }
}

impl From<tillkey_core::Error> for IpcError {
    fn from(err: tillkey_core::Error) -> Self {
        IpcError::shown_in(&err, Place::Window)
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

    use std::sync::Arc;
    use tillkey_core::{providers, Engine, Error, MemoryStore, NewCredential, SystemClock, Vault};

    /// Whether `text` tells the reader to run a Tillkey command or pass one of its flags.
    fn names_cli(text: &str) -> bool {
        [
            "`tillkey",
            "CLI",
            "--wait",
            "--set",
            "--address",
            "--ca-file",
            "--role-id",
            "--vault ",
        ]
        .iter()
        .any(|w| text.contains(w))
    }

    /// One of every core error that has a hint.
    fn core_errors() -> Vec<Error> {
        let io = |kind| Error::Io {
            action: "cannot write",
            path: "/x".into(),
            source: std::io::Error::from(kind),
        };
        vec![
            Error::NotFound("pos".into()),
            Error::AlreadyExists("pos".into()),
            Error::UnknownProvider {
                kind: "x".into(),
                known: "mypos".into(),
            },
            role_id_missing(),
            Error::MissingField {
                field: "client_id".into(),
                provider: "mypos".into(),
            },
            Error::KeyringUnavailable("no bus".into()),
            Error::KeyringLocked,
            Error::Locked,
            Error::WrongPassphrase,
            Error::SecretMissing {
                credential: "pos".into(),
                field: "token".into(),
            },
            Error::SecretRequired {
                credential: "pos".into(),
                fields: vec!["client_secret".into()],
                changed: vec!["token_url".into()],
            },
            Error::CorruptMetadata {
                path: "/v".into(),
                backup: "/b".into(),
                detail: "line 1".into(),
            },
            Error::CorruptTeamDocument {
                vault: "shop".into(),
                detail: "x".into(),
            },
            Error::UnsupportedSchema {
                path: "/v".into(),
                found: 9,
                supported: 1,
            },
            Error::Redirected {
                provider: "myPOS".into(),
                status: 302,
                target: "example.com".into(),
            },
            Error::RateLimited {
                provider: "myPOS".into(),
                retry_after_secs: 30,
            },
            Error::Network {
                host: "h".into(),
                detail: "d".into(),
                timeout: true,
            },
            Error::Network {
                host: "h".into(),
                detail: "d".into(),
                timeout: false,
            },
            Error::InvalidResponse {
                provider: "p".into(),
                status: 200,
                detail: "d".into(),
            },
            Error::Conflict { vault: "shop".into() },
            Error::VaultDenied {
                vault: "shop".into(),
                action: "write".into(),
            },
            Error::VaultUnreachable {
                vault: "shop".into(),
                address: "https://bao:8200".into(),
                detail: "refused".into(),
            },
            Error::VaultTls {
                vault: "shop.eu".into(),
                address: "https://bao:8200".into(),
                detail: "unknown issuer".into(),
            },
            Error::VaultSealed {
                vault: "shop".into(),
                address: "https://bao:8200".into(),
            },
            Error::VaultAuth {
                vault: "shop".into(),
                detail: "permission denied".into(),
            },
            Error::VaultNotConnected("shop".into()),
            Error::VaultResponse {
                vault: "shop".into(),
                status: 500,
                detail: "d".into(),
            },
            Error::Internal("x".into()),
            io(std::io::ErrorKind::StorageFull),
            io(std::io::ErrorKind::PermissionDenied),
            io(std::io::ErrorKind::Other),
        ]
    }

    /// The core's error for AppRole without a role id, as `ConnectOptions::into_config` gives it.
    fn role_id_missing() -> Error {
        let mut opts = tillkey_core::vault::team::ConnectOptions::token("shop", "http://127.0.0.1:8200");
        opts.auth = tillkey_core::vault::team::TeamAuth::Approle;
        opts.into_config().expect_err("AppRole needs a role id")
    }

    /// Hints the token engine and the connectivity test give for real: an expired static
    /// token, and a static token without a test URL.
    fn engine_hints() -> Vec<String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let vault =
            Arc::new(Vault::open(dir.path(), Arc::new(MemoryStore::default()), Arc::new(SystemClock)).expect("vault"));
        vault
            .add(NewCredential {
                name: "old-pat".into(),
                provider: "bearer".into(),
                environment: None,
                fields: [("expires_at".to_string(), "2020-01-01T00:00:00Z".to_string())].into(),
                secrets: [("token".to_string(), secrecy::SecretString::from("t0k".to_string()))].into(),
            })
            .expect("add");
        let engine = Engine::new(vault);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let Err(expired) = rt.block_on(engine.token("old-pat")) else {
            panic!("a static token past its expiry is refused")
        };
        let report = rt.block_on(engine.test("old-pat")).expect("a report");
        let mut hints: Vec<String> = expired.hint().into_iter().collect();
        hints.extend(report.stages.iter().filter_map(|s| s.hint.clone()));
        hints
    }

    /// Every hint of the core (its errors, every provider's, the engine's): some name a CLI
    /// command, and none does once worded for the window, in either place.
    #[test]
    fn window_hints_name_no_cli_command() {
        let mut hints: Vec<String> = core_errors().iter().filter_map(Error::hint).collect();
        for p in providers::ALL {
            for code in [
                "AUTH002",
                "AUTH003",
                "invalid_token",
                "invalid_client",
                "invalid_grant",
                "401",
            ] {
                for status in [400, 401, 403] {
                    hints.extend(p.error_hint(code, status));
                }
            }
        }
        hints.extend(engine_hints());
        let cli: Vec<&String> = hints.iter().filter(|h| names_cli(h)).collect();
        assert!(cli.len() >= 8, "the core words these hints for the CLI: {cli:#?}");
        for hint in &hints {
            for place in [Place::Window, Place::ConnectDialog, Place::RotationWizard] {
                let shown = window_hint(hint, place);
                assert!(!names_cli(&shown), "{place:?} still names the CLI: {shown}");
                assert!(!shown.contains("  ") && !shown.contains(" ."), "{shown}");
            }
        }
    }

    #[test]
    fn hints_point_at_the_button_that_does_it() {
        let pat = providers::find("paysera-pos")
            .expect("paysera-pos")
            .error_hint("AUTH002", 401)
            .expect("a hint");
        let shown = window_hint(&pat, Place::Window);
        assert!(
            shown.contains("Then choose Rotate… on this credential and enter the new token."),
            "{shown}"
        );
        let in_wizard = window_hint(&pat, Place::RotationWizard);
        assert!(
            in_wizard.ends_with("Then enter the new token here and test it again."),
            "{in_wizard}"
        );
        assert!(shown.starts_with(&pat[..40]), "the rest is kept: {shown}");

        let limited = Error::RateLimited {
            provider: "myPOS".into(),
            retry_after_secs: 30,
        };
        assert_eq!(
            IpcError::from(limited).hint.as_deref(),
            Some("Wait 30 s, then try again.")
        );

        // Where the merchant is connecting, nothing is connected yet to disconnect.
        let refused = Error::VaultAuth {
            vault: "shop".into(),
            detail: "permission denied".into(),
        };
        let in_dialog = IpcError::shown_in(&refused, Place::ConnectDialog);
        assert!(
            in_dialog
                .hint
                .as_deref()
                .is_some_and(|h| h.ends_with("Type a valid one and connect again.")),
            "{in_dialog:?}"
        );
        let elsewhere = IpcError::from(refused);
        assert!(
            elsewhere
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("Choose Disconnect… by the vault switcher")),
            "{elsewhere:?}"
        );
        let tls = Error::VaultTls {
            vault: "shop".into(),
            address: "https://bao:8200".into(),
            detail: "unknown issuer".into(),
        };
        let in_dialog = IpcError::shown_in(&tls, Place::ConnectDialog);
        assert!(
            in_dialog.hint.as_deref().is_some_and(|h| h.ends_with("under CA file.")),
            "{in_dialog:?}"
        );
    }

    #[test]
    fn connect_flags_become_the_dialog_fields() {
        let ipc = IpcError::from(role_id_missing());
        assert_eq!(ipc.field.as_deref(), Some("role_id"));
        assert_eq!(
            ipc.message,
            "invalid role ID: AppRole needs role ID (the role_id is not secret)"
        );
        let ipc = IpcError::from(Error::InvalidInput {
            field: "--role-id".into(),
            reason: "only goes with --auth approle".into(),
        });
        assert_eq!(ipc.message, "invalid role ID: only goes with the AppRole method");
        let ipc = IpcError::from(Error::InvalidInput {
            field: "--ca-file".into(),
            reason: "/x is not a readable file".into(),
        });
        assert_eq!(ipc.field.as_deref(), Some("ca_file"));
        let ipc = IpcError::from(Error::InvalidInput {
            field: "env".into(),
            reason: "x".into(),
        });
        assert_eq!(ipc.field.as_deref(), Some("environment"));
    }

    #[test]
    fn test_reports_and_rotation_results_are_worded_for_the_window() {
        let hint = engine_hints()
            .into_iter()
            .find(|h| h.contains("test_url"))
            .expect("the no-test-URL hint");
        let report = TestReport {
            credential: "pos".into(),
            provider: "bearer".into(),
            ok: false,
            tested_at: chrono::Utc::now(),
            summary: "s".into(),
            stages: vec![tillkey_core::dto::StageResult {
                stage: tillkey_core::dto::Stage::Api,
                ok: false,
                target: String::new(),
                latency_ms: 0,
                status: None,
                code: Some("no_test_url".into()),
                message: "m".into(),
                hint: Some(hint),
                rate_limit: None,
            }],
            taxpayer_tags: None,
        };
        let shown = vec![report].for_window();
        let hint = shown[0].stages[0].hint.as_deref().expect("hint kept");
        assert!(hint.contains("choose Edit on this credential"), "{hint}");
    }
}
