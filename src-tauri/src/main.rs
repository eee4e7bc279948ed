//! Entry point of the Tillkey desktop app; everything is in [`tillkey_app_lib`].

// No console window next to the app in Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // `tillkey-app --version` (bug reports, the package check) answers without a display:
    // before Tauri or GTK starts. One version for the app and the CLI: the workspace's.
    if matches!(std::env::args_os().nth(1), Some(a) if a == "--version" || a == "-V") {
        println!("tillkey-app {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    // Before any thread or GTK starts: environment changes are only safe now.
    tillkey_app_lib::tune_webkit();
    tillkey_app_lib::run();
}
