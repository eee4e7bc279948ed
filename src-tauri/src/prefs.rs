//! The window's view-only preferences (theme, list order, the vault chosen last): one small
//! JSON file in the app's data dir, reached only through the `get_preferences` and
//! `set_preferences` commands.
//!
//! # Security
//! The webview names no file and writes no free-form JSON: the path is fixed here, a change
//! is a typed [`PreferencesUpdate`] (enums for choices, unknown keys refused, a vault name
//! checked like the CLI checks it), and the file is written atomically, 0600, by the core's
//! `write_atomic`. (The generic store plugin this replaces let the webview load and set any
//! file path, and an absolute path replaced the base: JSON anywhere the user could write.)
//!
//! Nothing here changes what the vault or the CLI does; settings that do live in the
//! vault's metadata file. A file that cannot be read gives the defaults. The file name and
//! keys are those the store plugin used (`ui-preferences.json`: `theme`, `sort`, `vault`),
//! so preferences saved before carry over.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use tillkey_core::vault::metadata::{create_private_dir, write_atomic};
use tillkey_core::vault::team::config::validate_vault_name;
use tillkey_core::Error;
use ts_rs::TS;

/// The preferences file's name in the app's data dir.
pub const FILE_NAME: &str = "ui-preferences.json";

/// A preferences file larger than this is not read (defaults instead); it holds three keys.
const MAX_FILE_BYTES: u64 = 16 * 1024;

/// The colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Theme {
    /// Follow the desktop (`prefers-color-scheme`).
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// The credential list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum SortOrder {
    /// By name.
    #[default]
    Name,
    /// Newest first.
    Newest,
    /// Rotation due date, soonest first.
    Rotation,
    /// Token expiry, soonest first.
    Token,
    /// By provider.
    Provider,
}

/// The window's view-only preferences, and this machine's desktop behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Preferences {
    /// The colour theme.
    pub theme: Theme,
    /// The credential list's order.
    pub sort: SortOrder,
    /// The vault chosen last in the vault switcher (`local` or a team vault's name), reopened
    /// at start if it is still connected.
    pub vault: Option<String>,
    /// Closing the window keeps Tillkey in the tray (where there is one). Changed through
    /// `set_desktop_settings`, not `set_preferences`.
    #[ts(skip)]
    pub close_to_tray: bool,
    /// The "still running in the tray" notice was shown once.
    #[ts(skip)]
    pub tray_notice_shown: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            theme: Theme::default(),
            sort: SortOrder::default(),
            vault: None,
            close_to_tray: true,
            tray_notice_shown: false,
        }
    }
}

/// A change to some preferences, from the window: a field left out (or `null`) keeps its
/// value. Unknown fields are refused.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct PreferencesUpdate {
    /// A new theme.
    #[serde(default)]
    #[ts(optional)]
    pub theme: Option<Theme>,
    /// A new list order.
    #[serde(default)]
    #[ts(optional)]
    pub sort: Option<SortOrder>,
    /// The vault chosen in the switcher: `local`, `demo` or a team vault's name (1–64
    /// letters, digits, `.`, `_`, `-`).
    #[serde(default)]
    #[ts(optional)]
    pub vault: Option<String>,
    /// Keep running in the tray when the window closes (Rust only: the window changes it
    /// through `set_desktop_settings`).
    #[serde(skip)]
    #[ts(skip)]
    pub close_to_tray: Option<bool>,
    /// The tray notice was shown (Rust only).
    #[serde(skip)]
    #[ts(skip)]
    pub tray_notice_shown: Option<bool>,
}

/// `local`, or a name a team vault (or the demo vault) can have.
fn vault_name_ok(name: &str) -> bool {
    name == tillkey_core::vault::team::LOCAL_VAULT || validate_vault_name(name).is_ok()
}

impl Preferences {
    /// Reads the preferences from the JSON text of the file, leniently: a key that is
    /// missing, of the wrong type or out of range takes its default; other keys are ignored.
    fn from_json(text: &str) -> Self {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
            return Self::default();
        };
        let pick = |key: &str| map.get(key).cloned();
        Self {
            theme: pick("theme")
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default(),
            sort: pick("sort")
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default(),
            vault: pick("vault")
                .and_then(|v| v.as_str().map(str::to_string))
                .filter(|v| vault_name_ok(v)),
            close_to_tray: pick("closeToTray").and_then(|v| v.as_bool()).unwrap_or(true),
            tray_notice_shown: pick("trayNoticeShown").and_then(|v| v.as_bool()).unwrap_or(false),
        }
    }

    /// Applies `change`, checking the vault name.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a vault name that no vault can have; nothing changes.
    fn apply(mut self, change: PreferencesUpdate) -> tillkey_core::Result<Self> {
        if let Some(vault) = change.vault {
            if !vault_name_ok(&vault) {
                return Err(Error::InvalidInput {
                    field: "vault".into(),
                    reason: "is not a vault name: use `local` or 1-64 letters, digits, `.`, `_` or `-`".into(),
                });
            }
            self.vault = Some(vault);
        }
        if let Some(theme) = change.theme {
            self.theme = theme;
        }
        if let Some(sort) = change.sort {
            self.sort = sort;
        }
        if let Some(keep) = change.close_to_tray {
            self.close_to_tray = keep;
        }
        if let Some(shown) = change.tray_notice_shown {
            self.tray_notice_shown = shown;
        }
        Ok(self)
    }
}

/// Reads and read-modify-writes of the file, one at a time within this process.
static FILE_LOCK: Mutex<()> = Mutex::new(());

/// The preferences file at its one fixed path (`None` when the platform has no data dir:
/// then the defaults apply and nothing is saved).
#[derive(Debug, Clone)]
pub struct PrefsFile {
    path: Option<PathBuf>,
}

impl PrefsFile {
    /// The file `FILE_NAME` in `dir` (the app's data dir).
    pub fn in_dir(dir: Option<PathBuf>) -> Self {
        Self {
            path: dir.map(|d| d.join(FILE_NAME)),
        }
    }

    /// Where the file is, if anywhere.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The saved preferences; defaults for anything missing or unreadable.
    pub fn load(&self) -> Preferences {
        let _guard = FILE_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        self.read()
    }

    fn read(&self) -> Preferences {
        let Some(path) = self.path() else {
            return Preferences::default();
        };
        let small = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= MAX_FILE_BYTES);
        if !small {
            return Preferences::default();
        }
        std::fs::read_to_string(path)
            .map(|t| Preferences::from_json(&t))
            .unwrap_or_default()
    }

    /// Applies `change` to the saved preferences and saves them (atomically, 0600).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (a bad vault name), [`Error::NoDataDir`], file errors; the
    /// file is then unchanged.
    pub fn update(&self, change: PreferencesUpdate) -> tillkey_core::Result<Preferences> {
        let _guard = FILE_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        let next = self.read().apply(change)?;
        let path = self.path().ok_or(Error::NoDataDir)?;
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        let mut bytes = serde_json::to_vec_pretty(&next).map_err(|e| Error::InvalidInput {
            field: "preferences".into(),
            reason: e.to_string(),
        })?;
        bytes.push(b'\n');
        write_atomic(path, &bytes)?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(json: &str) -> PreferencesUpdate {
        serde_json::from_str(json).expect("a valid update")
    }

    #[test]
    fn saved_preferences_come_back_and_the_file_is_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = PrefsFile::in_dir(Some(dir.path().join("app")));
        assert_eq!(file.load(), Preferences::default());
        file.update(update(r#"{"theme":"dark"}"#)).expect("saved");
        let saved = file
            .update(update(r#"{"sort":"rotation","vault":"team-eu"}"#))
            .expect("saved");
        assert_eq!(
            saved,
            Preferences {
                theme: Theme::Dark,
                sort: SortOrder::Rotation,
                vault: Some("team-eu".into()),
                ..Preferences::default()
            }
        );
        assert_eq!(file.load(), saved);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file.path().expect("a path"))
                .expect("the file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_store_plugins_file_carries_over_and_bad_values_fall_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = PrefsFile::in_dir(Some(dir.path().to_path_buf()));
        // As tauri-plugin-store wrote it (pretty JSON object of the keys).
        std::fs::write(
            dir.path().join(FILE_NAME),
            "{\n  \"theme\": \"light\",\n  \"sort\": \"token\",\n  \"vault\": \"local\"\n}",
        )
        .expect("write");
        assert_eq!(
            file.load(),
            Preferences {
                theme: Theme::Light,
                sort: SortOrder::Token,
                vault: Some("local".into()),
                ..Preferences::default()
            }
        );
        std::fs::write(
            dir.path().join(FILE_NAME),
            r#"{"theme":"neon","sort":7,"vault":"../../etc","extra":{"x":1}}"#,
        )
        .expect("write");
        assert_eq!(file.load(), Preferences::default());
        std::fs::write(dir.path().join(FILE_NAME), "not json").expect("write");
        assert_eq!(file.load(), Preferences::default());
        std::fs::write(dir.path().join(FILE_NAME), " ".repeat(MAX_FILE_BYTES as usize + 1)).expect("write");
        assert_eq!(file.load(), Preferences::default());
    }

    #[test]
    fn the_boundary_takes_only_known_keys_choices_and_vault_names() {
        for bad in [
            r#"{"theme":"neon"}"#,
            r#"{"sort":"size"}"#,
            r#"{"path":"/home/u/.bashrc"}"#,
            r#"{"theme":1}"#,
            r#"{"closeToTray":false}"#,
            r#"{"trayNoticeShown":true}"#,
        ] {
            assert!(serde_json::from_str::<PreferencesUpdate>(bad).is_err(), "{bad}");
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let file = PrefsFile::in_dir(Some(dir.path().to_path_buf()));
        for vault in ["", "../x", "/etc/passwd", "a b", &"v".repeat(65)] {
            let change = PreferencesUpdate {
                vault: Some(vault.to_string()),
                ..Default::default()
            };
            assert_eq!(file.update(change).unwrap_err().code(), "invalid_input", "{vault:?}");
        }
        assert!(!dir.path().join(FILE_NAME).exists(), "a refused change writes nothing");
    }

    #[test]
    fn without_a_data_dir_the_defaults_apply_and_saving_says_why_not() {
        let file = PrefsFile::in_dir(None);
        assert_eq!(file.load(), Preferences::default());
        assert_eq!(
            file.update(PreferencesUpdate::default()).unwrap_err().code(),
            "no_data_dir"
        );
    }
}
