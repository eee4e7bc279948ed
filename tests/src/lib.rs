//! # tillkey-e2e
//!
//! End-to-end tests of the Tillkey desktop app; there is no library code here. The tests
//! live in `tests/`: they start `tauri-driver`, which starts WebKitWebDriver, which starts
//! the real app binary in a real WebKitGTK webview, and drive its UI over WebDriver
//! (fantoccini) against the real OS keyring.
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
