//! The real `tillkey` binary against the provider simulators (crates/sim), with the real
//! OS keyring. Run under `scripts/with-keyring.sh`, which starts a D-Bus session with an
//! unlocked gnome-keyring.
//!
//! One test binary (link time on small machines); every test has its own simulators and
//! its own data dir (hence its own vault id and keyring entries), so tests run in
//! parallel. Counts come from the simulators' statistics, so every test can fail.

mod common;

mod acceptance;
mod bearer;
mod chimpy;
mod ereceipt;
mod leaks;
mod mypos;
mod oauth2;
mod oauth_engine;
mod paysera_checkout;
mod paysera_pos;
