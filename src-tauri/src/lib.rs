//! # tillkey-app
//!
//! The Tillkey desktop app: a Tauri 2 window over `tillkey-core`. Everything it knows is
//! in the core; this crate only wires the core into commands the web UI (`ui/`) calls:
//!
//! - [`commands`]: `list_credentials`, `list_providers`, `add_credential`,
//!   `remove_credential`, each a thin adapter over one core function;
//! - [`error`]: [`error::IpcError`], the sanitised error the UI shows;
//! - [`state`]: the vault, opened on first use in the data dir from `--data-dir DIR`,
//!   `TILLKEY_DATA_DIR` or the platform default.
//!
//! View-only preferences (theme, list order) live in `tauri-plugin-store`, used straight
//! from the UI. `capabilities/default.json` grants the window those commands and the
//! store's load/get/set, nothing more.

pub mod commands;
pub mod error;
pub mod state;

use state::AppState;

/// Builds and runs the app until its last window closes.
///
/// Exits the process with status 1 if Tauri cannot start (no display, webview missing).
pub fn run() {
    let data_dir = state::data_dir_arg(std::env::args_os().skip(1));

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::new().build())
        .manage(AppState::new(data_dir))
        .invoke_handler(tauri::generate_handler![
            commands::list_credentials,
            commands::list_providers,
            commands::add_credential,
            commands::remove_credential,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"));

    if let Err(error) = result {
        eprintln!("tillkey: the app could not start: {error}");
        std::process::exit(1);
    }
}
