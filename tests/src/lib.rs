//! # tillkey-e2e
//!
//! End-to-end tests of the Tillkey desktop app; there is no library code here. The tests
//! live in `tests/`: they start `tauri-driver`, which starts WebKitWebDriver, which starts
//! the real app binary in a real WebKitGTK webview, and drive its UI over WebDriver
//! (fantoccini) against the real OS keyring.
//!
//! - `tests/app.rs`: add by form, restart, remove; preferences; the CSP.
//! - `tests/workflows.rs`: every merchant workflow against the provider simulators
//!   (started in the test process): add each kind by form with "Save and test", inline
//!   validation, copy (the X clipboard read with `xclip`, then checked cleared), the
//!   rotation wizard's success and failure, reminders (the notification read back from
//!   the session's `dunst` with `dunstctl history`; the next day through the test-build
//!   clock override `TILLKEY_TEST_NOW`), the demo vault, search/filter/sort, edit, and
//!   accessible names and keyboard reach at 800 × 600.
//! - `tests/screenshots.rs` (ignored): regenerates `docs/screenshots/`.
//!
//! Run them after building the UI, inside the keyring session script:
//!
//! ```text
//! npm --prefix ui run build
//! ./scripts/with-keyring.sh cargo test -p tillkey-e2e
//! ```
//!
//! The tests run `cargo build -p tillkey-app` themselves (a no-op when it is up to date;
//! it embeds `ui/dist` as it is), unless `TILLKEY_APP_BIN` names the binary to drive.
//! `tauri-driver` is looked up on `PATH`, then in `~/.cargo/bin` (install it with
//! `cargo install tauri-driver --version '^2' --locked`; it needs WebKitWebDriver from
//! Debian's `webkit2gtk-driver`).
