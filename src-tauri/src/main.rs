//! Entry point of the Tillkey desktop app; everything is in [`tillkey_app_lib`].

// No console window next to the app in Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Before any thread or GTK starts: environment changes are only safe now.
    tillkey_app_lib::tune_webkit();
    tillkey_app_lib::run();
}
