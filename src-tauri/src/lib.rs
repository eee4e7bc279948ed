//! # tillkey-app
//!
//! The Tillkey desktop app: a Tauri 2 window over `tillkey-core`. Everything it knows is
//! in the core; this crate only wires the core into commands the web UI (`ui/`) calls:
//!
//! - [`commands`]: one thin adapter per UI action (list, add, edit, remove, test, test
//!   all, copy, reveal, rotate, mark as rotated, settings, demo vault, vault switcher);
//! - [`team`]: connect and disconnect team vaults (what `tillkey vault connect` and
//!   `disconnect` do); [`revoke`]: revoke a cached token (what `tillkey revoke` does);
//! - [`clipboard`]: copy from Rust with a timed clear (tauri-plugin-clipboard-manager);
//! - [`reminders`]: rotation reminders as desktop notifications (tauri-plugin-notification),
//!   at most once a day per credential;
//! - [`demo`]: the demo vault, backed by the provider simulators running in-process;
//! - [`error`]: [`error::IpcError`], the sanitised error the UI shows;
//! - `bench` (cargo feature `bench` only): the benchmark's first-paint report (inert unless
//!   `TILLKEY_BENCH_PAINT_FILE` is set);
//! - [`prefs`]: the window's view-only preferences, one JSON file in the app's data dir;
//! - [`state`]: the active vault, opened on first use in the data dir from
//!   `--data-dir DIR`, `TILLKEY_DATA_DIR` or the platform default (or the demo vault with
//!   `--demo`).
//!
//! View-only preferences (theme, list order, last vault) go through two narrow commands,
//! `get_preferences` and `set_preferences`, over one fixed file (see [`prefs`]); the
//! webview has no store or filesystem permission. `capabilities/default.json` grants the
//! window exactly the commands the UI calls; the clipboard and notification plugins are
//! used from Rust only, so the webview has no permission for them. Builds with the `bench`
//! feature (`scripts/bench.sh`) add the first-paint command and `capabilities/bench/`,
//! which grants it; every other build (the .deb, `run-app.sh`, the E2E tests) has neither
//! (see `build.rs`).

#[cfg(feature = "bench")]
pub mod bench;
pub mod clipboard;
pub mod commands;
pub mod demo;
pub mod dto;
pub mod error;
pub mod prefs;
pub mod reminders;
pub mod revoke;
pub mod state;
pub mod team;
#[cfg(debug_assertions)]
mod test_clock;

use state::AppState;
use tauri::Manager;

/// WebKitGTK settings for a window of forms and lists, applied unless the environment
/// already sets them. Call it first thing in `main`, before any other thread exists.
///
/// WebKitGTK's DMA-BUF renderer sets up GPU buffer sharing that Tillkey's UI has no use for;
/// without it (`WEBKIT_DISABLE_DMABUF_RENDERER=1`, the shared-memory path) the window paints
/// its first frame about 400 ms sooner and the app's processes use about 90 MB less (measured
/// under Xvfb: 1.1 s → 0.7 s, 303 MB → 215 MB PSS). It is also the usual cure for blank
/// windows on some NVIDIA drivers. Set the variable to `0` to get the DMA-BUF renderer back.
pub fn tune_webkit() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none() {
        std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
}

/// Builds and runs the app until its last window closes.
///
/// Exits the process with status 1 if Tauri cannot start (no display, webview missing).
pub fn run() {
    let args = state::parse_args(std::env::args_os().skip(1));

    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .manage(AppState::new(args));
    #[cfg(feature = "bench")]
    let builder = builder.manage(bench::FirstPaint::from_env());
    let result = builder
        .setup(|app| {
            reminders::spawn_loop(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::open_demo,
            commands::leave_demo,
            commands::list_vaults,
            commands::vault_status,
            commands::switch_vault,
            commands::list_credentials,
            commands::list_providers,
            commands::add_credential,
            commands::edit_credential,
            commands::remove_credential,
            commands::test_credential,
            commands::test_all,
            commands::copy_token,
            commands::reveal_token,
            commands::rotate_credential,
            commands::demo_new_secret,
            commands::mark_rotated,
            commands::get_settings,
            commands::set_settings,
            commands::get_preferences,
            commands::set_preferences,
            revoke::revoke_token,
            team::connect_team_vault,
            team::disconnect_team_vault,
            #[cfg(feature = "bench")]
            bench::report_first_paint,
        ])
        .build(tauri::generate_context!("../tauri.conf.json"));

    match result {
        Ok(app) => app.run(|handle, event| {
            if let tauri::RunEvent::Exit = event {
                handle.state::<AppState>().shutdown();
            }
        }),
        Err(error) => {
            eprintln!("tillkey: the app could not start: {error}");
            std::process::exit(1);
        }
    }
}
