//! Entry point of the Tillkey desktop app; everything is in [`tillkey_app_lib`].

// No console window next to the app in Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tillkey_app_lib::run();
}
