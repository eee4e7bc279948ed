//! The app's commands: thin adapters that deserialize, call the core and map its error to
//! [`IpcError`].
//!
//! Blocking core calls (file lock, keyring over D-Bus) run on Tauri's blocking pool, never
//! on the main (UI) thread; the token engine's calls are async. Only [`reveal_token`]
//! returns a secret, on the merchant's explicit click; secrets otherwise cross only
//! inbound (add, rotate, and the current secrets re-typed to confirm an edit of an address).

use crate::dto::{AppInfo, CopyResult, DemoSecret, RevealedToken};
use crate::error::{ForWindow, IpcError, IpcResult};
use crate::prefs::{Preferences, PreferencesUpdate, PrefsFile};
use crate::state::{blocking, AppState, Handle};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};
use tillkey_core::dto::{CredentialEdit, RotationResult, VaultSettings};
use tillkey_core::vault::team::{self, VaultStatus};
use tillkey_core::KeyringStore;
use tillkey_core::{providers, CredentialSummary, NewCredential, ProviderSchema, TestReport, TokenSource};

async fn active<R: Runtime>(app: &AppHandle<R>) -> IpcResult<Handle> {
    app.state::<AppState>().handle().await
}

/// The active vault for an action that a locked vault refuses (see [`crate::lock`]): the
/// list and the settings stay readable while locked; adding, editing, removing, testing,
/// copying, revealing and rotating ask for the passphrase first.
pub(crate) async fn unlocked<R: Runtime>(app: &AppHandle<R>) -> IpcResult<Handle> {
    let h = active(app).await?;
    crate::lock::ensure_unlocked(app, &h).await?;
    Ok(h)
}

fn info<R: Runtime>(app: &AppHandle<R>, h: &Handle) -> AppInfo {
    let state = app.state::<AppState>();
    AppInfo {
        demo: h.demo,
        data_dir: h.vault.data_dir().display().to_string(),
        vault: if h.demo {
            "demo".into()
        } else {
            h.vault.name().to_string()
        },
        team: h.vault.team_name().is_some(),
        version: app.package_info().version.to_string(),
        now: state.clock().now(),
        clipboard_clear_secs: state.clear_after().as_secs(),
        first_paint_report: first_paint_waiting(app),
    }
}

/// Whether the benchmark waits for the first-paint report (`bench` builds only).
#[cfg(feature = "bench")]
fn first_paint_waiting<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.state::<crate::bench::FirstPaint>().waiting()
}

/// Whether the benchmark waits for the first-paint report: never without the `bench` feature.
#[cfg(not(feature = "bench"))]
fn first_paint_waiting<R: Runtime>(_app: &AppHandle<R>) -> bool {
    false
}

fn show_mode_in_title<R: Runtime>(app: &AppHandle<R>, h: &Handle) {
    if let Some(window) = app.get_webview_window("main") {
        let title = if h.demo {
            "Tillkey — Demo vault (simulated providers)".to_string()
        } else if let Some(team) = h.vault.team_name() {
            format!("Tillkey — Team vault {team}")
        } else {
            "Tillkey".to_string()
        };
        let _ = window.set_title(&title);
    }
}

/// Checks rotation reminders in the background (after the vault or its settings changed).
fn check_reminders_soon<R: Runtime>(app: &AppHandle<R>) {
    crate::reminders::wake(app);
}

/// Which vault is active, the app clock's "now" and the clipboard delay.
#[tauri::command]
pub async fn app_info<R: Runtime>(app: AppHandle<R>) -> IpcResult<AppInfo> {
    let h = active(&app).await?;
    show_mode_in_title(&app, &h);
    Ok(info(&app, &h))
}

/// Switches to the demo vault: the provider simulators start inside the app and a
/// separate vault gets one credential per provider.
#[tauri::command]
pub async fn open_demo<R: Runtime>(app: AppHandle<R>) -> IpcResult<AppInfo> {
    let h = app.state::<AppState>().enter_demo().await?;
    show_mode_in_title(&app, &h);
    Ok(info(&app, &h))
}

/// Leaves the demo vault (its credentials are removed) for the merchant's own.
#[tauri::command]
pub async fn leave_demo<R: Runtime>(app: AppHandle<R>) -> IpcResult<AppInfo> {
    let h = app.state::<AppState>().leave_demo().await?;
    show_mode_in_title(&app, &h);
    check_reminders_soon(&app);
    Ok(info(&app, &h))
}

/// Every vault of this machine with its connection status: the local vault first, then
/// each connected team vault (one engine round-trip each; a problem is its status).
#[tauri::command]
pub async fn list_vaults<R: Runtime>(app: AppHandle<R>) -> IpcResult<Vec<VaultStatus>> {
    let dir = app.state::<AppState>().real_data_dir()?;
    blocking(move || team::list_vaults(&dir, Arc::new(KeyringStore))).await
}

/// The active vault's status: for a team vault, whether the engine answers and whether
/// this machine's policy allows writes (the window shows a read-only notice when not).
#[tauri::command]
pub async fn vault_status<R: Runtime>(app: AppHandle<R>) -> IpcResult<VaultStatus> {
    let h = active(&app).await?;
    blocking(move || Ok(h.vault.status())).await
}

/// Switches the window to vault `name` (`local` or a connected team vault).
#[tauri::command]
pub async fn switch_vault<R: Runtime>(app: AppHandle<R>, name: String) -> IpcResult<AppInfo> {
    let h = app.state::<AppState>().switch_vault(&name).await?;
    show_mode_in_title(&app, &h);
    check_reminders_soon(&app);
    Ok(info(&app, &h))
}

/// Every credential in the active vault: metadata only.
#[tauri::command]
pub async fn list_credentials<R: Runtime>(app: AppHandle<R>) -> IpcResult<Vec<CredentialSummary>> {
    let h = active(&app).await?;
    blocking(move || h.vault.list()).await.map(ForWindow::for_window)
}

/// Every provider kind with its form schema.
#[tauri::command]
pub async fn list_providers() -> IpcResult<Vec<ProviderSchema>> {
    Ok(providers::schemas())
}

/// Adds a credential: secrets to the OS keyring, metadata to the vault file.
///
/// # Security
/// `new.secrets` holds what the merchant typed, as `SecretString`s (redacted `Debug`);
/// they go to the core and are never echoed back.
#[tauri::command]
pub async fn add_credential<R: Runtime>(app: AppHandle<R>, new: NewCredential) -> IpcResult<CredentialSummary> {
    let h = unlocked(&app).await?;
    blocking(move || h.vault.add(new)).await
}

/// Changes a credential's non-secret parts (name, environment, fields, rotation period).
///
/// # Security
/// A change of where its secrets are sent (a URL field or `auth_host`) needs
/// `edit.current_secrets`, the current values re-typed by the merchant (`SecretString`s);
/// the core compares them with the stored ones and refuses with `secret_required`
/// otherwise. They are never stored again or echoed back.
#[tauri::command]
pub async fn edit_credential<R: Runtime>(
    app: AppHandle<R>,
    name: String,
    edit: CredentialEdit,
) -> IpcResult<CredentialSummary> {
    let h = unlocked(&app).await?;
    blocking(move || h.vault.edit(&name, edit)).await
}

/// Removes a credential and every keyring entry it owns.
#[tauri::command]
pub async fn remove_credential<R: Runtime>(app: AppHandle<R>, name: String) -> IpcResult<()> {
    let h = unlocked(&app).await?;
    blocking(move || h.vault.remove(&name)).await
}

/// Connectivity test of one credential (recorded as its last test).
#[tauri::command]
pub async fn test_credential<R: Runtime>(app: AppHandle<R>, name: String) -> IpcResult<TestReport> {
    let h = unlocked(&app).await?;
    Ok(h.engine.test(&name).await?.for_window())
}

/// Connectivity test of every credential, a few at a time per host.
#[tauri::command]
pub async fn test_all<R: Runtime>(app: AppHandle<R>) -> IpcResult<Vec<TestReport>> {
    let h = unlocked(&app).await?;
    Ok(h.engine.test_all().await?.for_window())
}

fn source_word(source: TokenSource) -> &'static str {
    match source {
        TokenSource::Static => "static",
        TokenSource::Cached => "cached",
        TokenSource::Fetched => "fetched",
        TokenSource::Refreshed => "refreshed",
    }
}

/// Copies a valid access token (fetched or refreshed as needed) to the clipboard from
/// Rust, and clears it after the delay if it still holds that token. The token is not
/// returned.
#[tauri::command]
pub async fn copy_token<R: Runtime>(app: AppHandle<R>, name: String) -> IpcResult<CopyResult> {
    let h = unlocked(&app).await?;
    // Logged once the clipboard holds the token (or failed to): a copy that never reached
    // the clipboard is not recorded as done.
    h.engine
        .token_delivered(
            &name,
            tillkey_core::audit::Action::Copy,
            |token| {
                let app = &app;
                async move {
                    let clears_in_secs = crate::clipboard::copy(app, token.value).await?;
                    Ok(CopyResult {
                        clears_in_secs,
                        expires_at: token.expires_at,
                        source: source_word(token.source).into(),
                    })
                }
            },
            |e: &IpcError| e.code.clone(),
        )
        .await
}

/// Returns a valid access token for display, on the merchant's explicit "Reveal" click.
///
/// # Security
/// The one command that sends a secret to the webview.
#[tauri::command]
pub async fn reveal_token<R: Runtime>(app: AppHandle<R>, name: String) -> IpcResult<RevealedToken> {
    let h = unlocked(&app).await?;
    let token = h.engine.token_as(&name, tillkey_core::audit::Action::Reveal).await?;
    Ok(RevealedToken {
        token: token.value.expose_secret().to_string(),
        expires_at: token.expires_at,
    })
}

/// Rotates a credential: stages the new secret values (with `identity`, the new values of
/// identity fields where the provider issued a new set, e.g. myPOS's `client_id`), tests
/// them, and only if the test passes swaps them in and retires the old ones (revoking the
/// old cached token where the provider has an endpoint, with the old set when the identity
/// changed). A failed test leaves the old credential untouched. Which fields may change is
/// the core's check.
///
/// # Security
/// `secrets` holds what the merchant typed; it goes to the core and is never echoed back.
#[tauri::command]
pub async fn rotate_credential<R: Runtime>(
    app: AppHandle<R>,
    name: String,
    secrets: BTreeMap<String, SecretString>,
    identity: Option<BTreeMap<String, String>>,
) -> IpcResult<RotationResult> {
    let h = unlocked(&app).await?;
    let result: RotationResult = h
        .engine
        .rotate_with(&name, identity.unwrap_or_default(), secrets)
        .await?
        .into();
    Ok(result.for_window())
}

/// Demo vault only: the simulated portal makes a new secret for the rotation wizard (with
/// a new client ID where the provider issues a new set, as myPOS does).
///
/// # Security
/// Returns a simulator-only demo value (refused outside the demo vault).
#[tauri::command]
pub async fn demo_new_secret<R: Runtime>(app: AppHandle<R>, name: String) -> IpcResult<DemoSecret> {
    let made = app.state::<AppState>().demo_secret(&name).await?;
    Ok(DemoSecret {
        field: made.field,
        value: made.value,
        identity: made.identity,
    })
}

/// Marks a credential as rotated today without changing its secret (rotated elsewhere).
#[tauri::command]
pub async fn mark_rotated<R: Runtime>(app: AppHandle<R>, name: String) -> IpcResult<CredentialSummary> {
    let h = unlocked(&app).await?;
    blocking(move || h.vault.mark_rotated(&name)).await
}

/// The vault settings shared with the CLI (reminder lead time, default rotation period).
#[tauri::command]
pub async fn get_settings<R: Runtime>(app: AppHandle<R>) -> IpcResult<VaultSettings> {
    let h = active(&app).await?;
    blocking(move || h.vault.vault_settings()).await
}

/// The window's view-only preferences (theme, list order, last vault); defaults for
/// anything missing or unreadable.
#[tauri::command]
pub async fn get_preferences<R: Runtime>(app: AppHandle<R>) -> IpcResult<Preferences> {
    let file = PrefsFile::in_dir(app.path().app_data_dir().ok());
    blocking(move || Ok(file.load())).await
}

/// Changes some preferences (typed and checked: no file path, no free-form keys) and
/// returns them all as saved.
#[tauri::command]
pub async fn set_preferences<R: Runtime>(app: AppHandle<R>, change: PreferencesUpdate) -> IpcResult<Preferences> {
    let file = PrefsFile::in_dir(app.path().app_data_dir().ok());
    blocking(move || file.update(change)).await
}

/// Changes the vault settings; reminders are checked again at once.
#[tauri::command]
pub async fn set_settings<R: Runtime>(app: AppHandle<R>, settings: VaultSettings) -> IpcResult<VaultSettings> {
    let h = active(&app).await?;
    let saved = blocking(move || h.vault.set_settings(settings)).await?;
    check_reminders_soon(&app);
    Ok(saved)
}
