//! Builds the Tauri context from the root `tauri.conf.json` and generates one
//! `allow-<command>` permission per app command, which `capabilities/default.json` grants.

/// Every command the app exposes; keep in step with `commands.rs` and `lib.rs`.
const COMMANDS: &[&str] = &[
    "app_info",
    "open_demo",
    "leave_demo",
    "list_vaults",
    "vault_status",
    "switch_vault",
    "list_credentials",
    "list_providers",
    "add_credential",
    "edit_credential",
    "remove_credential",
    "test_credential",
    "test_all",
    "copy_token",
    "reveal_token",
    "rotate_credential",
    "demo_new_secret",
    "mark_rotated",
    "get_settings",
    "set_settings",
    "get_preferences",
    "set_preferences",
    "report_first_paint",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports failure by panicking; print the whole chain first.
        eprintln!("tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}
