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
//! - [`reminders`]: rotation reminders for every vault of this machine, as desktop
//!   notifications (notify-rust, with an action that opens the window on the credentials),
//!   at most once a day per credential, from the resident process;
//! - [`lock`]: the vault passphrase in the window (lock screen, unlock, set, change,
//!   remove, auto-lock) and the local agent served from the resident process;
//! - [`import`]: import in the window (a dropped file or a typed path; what
//!   `tillkey import` does, checked first with a dry run);
//! - [`tray`]: the tray icon and its menu (what is due, Test all, Pause, Quit);
//! - [`desktop`]: the window built on demand and destroyed on close, close-to-tray,
//!   autostart, and "open on these credentials" requests;
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
//! window exactly the commands the UI calls; the clipboard, autostart and single-instance
//! plugins and the notifications are used from Rust only, so the webview has no permission
//! for them. Builds with the `bench`
//! feature (`scripts/bench.sh`) add the first-paint command and `capabilities/bench/`,
//! which grants it; every other build (the .deb, `run-app.sh`, the E2E tests) has neither
//! (see `build.rs`).

pub mod audit;
#[cfg(feature = "bench")]
pub mod bench;
pub mod clipboard;
pub mod commands;
pub mod demo;
pub mod desktop;
pub mod dto;
pub mod error;
pub mod import;
pub mod inspector;
pub mod lock;
pub mod prefs;
pub mod reminders;
pub mod revoke;
pub mod state;
pub mod team;
#[cfg(debug_assertions)]
mod test_clock;
pub mod tray;

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

/// The single-instance D-Bus name for `args`' data dir: one running Tillkey per data dir
/// (a second launch with the same data dir goes to the first; another data dir is another
/// app). The name holds a hash of the data dir, never the path itself.
fn instance_id(args: &state::Args) -> String {
    let dir = tillkey_core::vault::resolve_data_dir(args.data_dir.clone())
        .map(|d| std::fs::canonicalize(&d).unwrap_or(d))
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    // FNV-1a: stable across builds and runs (std's hasher is not).
    let hash = dir.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("com.tillkey.desktop.d{hash:016x}")
}

/// A second launch reached this one: open the window (on the demo vault for `--demo`).
fn second_launch<R: tauri::Runtime>(app: &tauri::AppHandle<R>, argv: Vec<String>) {
    let args = state::parse_args(argv.into_iter().skip(1).map(std::ffi::OsString::from));
    if args.hidden {
        return;
    }
    if args.demo {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            if let Err(e) = app.state::<AppState>().enter_demo().await {
                eprintln!("tillkey: the demo vault could not open: {}", e.code);
            }
            // A window already showing another vault loads again to show the demo.
            if let Some(w) = app.get_webview_window(desktop::MAIN) {
                let _ = w.reload();
            }
            desktop::open_window(&app, None);
        });
    } else {
        desktop::open_window(app, None);
    }
}

/// Builds and runs the app: the window (unless `--hidden`), the tray where the desktop has
/// one, and the reminder loop, until Quit (or, without a tray, until the window closes).
///
/// Exits the process with status 1 if Tauri cannot start (no display, webview missing).
pub fn run() {
    let args = state::parse_args(std::env::args_os().skip(1));
    audit::set_origin();
    let hidden = args.hidden;
    let autostart_args: Vec<String> = std::iter::once("--hidden".to_string())
        .chain(args.data_dir.as_ref().and_then(|d| {
            // The login item's command line is not quoted by the plugin: only a plain path.
            let d = d.to_str()?;
            d.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
                .then(|| format!("--data-dir={d}"))
        }))
        .collect();

    let builder = tauri::Builder::default()
        // First, so a second launch is handed over before anything else starts.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance_id(&args))
                .callback(|app, argv, _cwd| second_launch(app, argv))
                .build(),
        )
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name("Tillkey")
                .args(autostart_args)
                .build(),
        )
        .manage(AppState::new(args))
        .manage(desktop::Desktop::default())
        .manage(tray::Listed::default())
        .manage(reminders::Wake::default())
        .manage(lock::Lock::default())
        .manage(import::Dropped::default());
    #[cfg(feature = "bench")]
    let builder = builder.manage(bench::FirstPaint::from_env());
    let result = builder
        .setup(move |app| {
            let handle = app.handle().clone();
            lock::start(&handle);
            tray::ensure(&handle);
            if !hidden {
                desktop::open_window(&handle, None);
            }
            reminders::spawn_loop(handle);
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
            desktop::get_desktop_settings,
            desktop::set_desktop_settings,
            desktop::take_focus,
            team::connect_team_vault,
            team::disconnect_team_vault,
            revoke::revoke_token,
            audit::audit_log,
            audit::verify_audit_log,
            audit::export_audit_log,
            inspector::inspect_credential,
            lock::lock_status,
            lock::unlock_vault,
            lock::lock_vault,
            lock::set_passphrase,
            lock::change_passphrase,
            lock::remove_passphrase,
            lock::set_auto_lock,
            import::import_file,
            import::take_dropped_file,
            #[cfg(feature = "bench")]
            bench::report_first_paint,
        ])
        .build(tauri::generate_context!("../tauri.conf.json"));

    match result {
        Ok(app) => app.run(|handle, event| match event {
            // The last window closed (not Quit): stay in the tray if there is one.
            tauri::RunEvent::ExitRequested { code: None, api, .. }
                if handle.state::<desktop::Desktop>().keeps_running(handle) =>
            {
                api.prevent_exit();
                desktop::closed_to_tray(handle);
            }
            tauri::RunEvent::WindowEvent {
                event: tauri::WindowEvent::Destroyed,
                ..
            } => desktop::window_destroyed(handle),
            // A file dropped on the window: offered for import.
            tauri::RunEvent::WindowEvent {
                event: tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }),
                ..
            } => import::dropped(handle, &paths),
            tauri::RunEvent::Exit => handle.state::<AppState>().shutdown(),
            _ => {}
        }),
        Err(error) => {
            eprintln!("tillkey: the app could not start: {error}");
            std::process::exit(1);
        }
    }
}
