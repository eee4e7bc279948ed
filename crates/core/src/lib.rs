//! # tillkey-core
//!
//! Everything Tillkey knows, with no user interface in it: the provider catalogue and
//! its field schemas, the vault (a JSON metadata file plus secrets in the OS keyring),
//! rotation status, and the error type every front end maps to its own surface.
//!
//! The desktop app (`src-tauri`) and the `tillkey` CLI are thin adapters over this crate;
//! nothing here depends on Tauri. Three seams keep the logic testable without a desktop:
//! [`SecretStore`] (OS keyring or in-memory), [`Clock`] (system or fixed), and the data
//! directory (a temp dir in tests).
//!
//! ```no_run
//! use tillkey_core::{Vault, NewCredential};
//! let vault = Vault::open_default(None)?;
//! for c in vault.list()? {
//!     println!("{} ({}) rotation: {:?}", c.name, c.provider, c.rotation.status);
//! }
//! # Ok::<(), tillkey_core::Error>(())
//! ```

pub mod audit;
pub mod backup;
pub mod clock;
pub mod dto;
pub mod error;
pub mod http;
pub mod import;
pub mod inspect;
pub mod jwt;
pub mod oauth;
pub mod passphrase;
pub mod probe;
pub mod providers;
pub mod reminders;
pub mod rotation;
pub mod schedule;
pub mod scrub;
pub mod token;
pub mod vault;

pub use clock::{Clock, FixedClock, SystemClock};
pub use dto::{
    CredentialSummary, Environment, FieldInput, FieldSchema, NewCredential, ProviderSchema, RotationInfo,
    RotationStatus, Stage, StageResult, TestReport, TokenInfo,
};
pub use error::{Error, ErrorClass, ErrorInfo, Result};
pub use rotation::RotateOutcome;
pub use token::{AccessToken, Engine, RevokeOutcome, TokenSource};
pub use vault::secrets::{KeyringStore, MemoryStore, SecretKey, SecretStore};
pub use vault::Vault;
