//! The benchmark's first-paint report (`tillkey-bench` measures cold start to the first
//! painted dashboard from the real window).
//!
//! Compiled only with the cargo feature `bench` (`scripts/bench.sh` builds the release app
//! with it); without the feature the command, its permission and the capability granting
//! it (`capabilities/bench/`) are not in the app at all (see `build.rs`).
//!
//! Inert unless `TILLKEY_BENCH_PAINT_FILE` names a file when the app starts: then the UI's
//! report after its first painted dashboard is written there as JSON, once per window (a
//! window built again from the tray is measured too: [`FirstPaint::rearm`]). The
//! webview can call the command but chooses nothing: not the file, not its content beyond
//! two row counts. `app_info` tells the UI whether a report is wanted
//! ([`FirstPaint::waiting`]), so it calls the command only then.

use crate::error::IpcResult;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tauri::State;

/// Environment variable naming the file the first-paint report goes to.
pub const PAINT_FILE_ENV: &str = "TILLKEY_BENCH_PAINT_FILE";

/// Where the report goes (taken by a report, put back for the next window) and when the
/// app started.
#[derive(Debug)]
pub struct FirstPaint {
    file: Mutex<Option<PathBuf>>,
    named: Option<PathBuf>,
    started: Instant,
}

impl FirstPaint {
    /// Reads [`PAINT_FILE_ENV`]; without it, reports are ignored.
    pub fn from_env() -> Self {
        let named = std::env::var_os(PAINT_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Self {
            file: Mutex::new(named.clone()),
            named,
            started: Instant::now(),
        }
    }

    /// A new window is being built: its first paint is reported too (if a file was named).
    pub fn rearm(&self) {
        *self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = self.named.clone();
    }

    /// Whether a report is still wanted: a file was named and nothing was written yet.
    pub fn waiting(&self) -> bool {
        self.file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }

    /// Writes the report once, if a file was named; later calls do nothing.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn report(&self, rows: u32, credentials: u32) -> std::io::Result<()> {
        let Some(path) = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        else {
            return Ok(());
        };
        let painted_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0);
        let doc = serde_json::json!({
            "paintedUnixMs": painted_unix_ms,
            "sinceAppStartMs": self.started.elapsed().as_secs_f64() * 1000.0,
            "rows": rows,
            "credentials": credentials,
        });
        // Written aside and renamed, so a reader never sees half a report.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, doc.to_string())?;
        std::fs::rename(&tmp, &path)
    }
}

/// The UI's report that the dashboard has painted, with `rows` credential rows in the
/// page out of `credentials`. A no-op unless the app was started for the benchmark.
#[tauri::command]
pub async fn report_first_paint(state: State<'_, FirstPaint>, rows: u32, credentials: u32) -> IpcResult<()> {
    if let Err(e) = state.report(rows, credentials) {
        eprintln!("tillkey: cannot write the first-paint report: {e}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_once_to_the_named_file_and_is_inert_without_one() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("paint.json");
        let fp = FirstPaint {
            file: Mutex::new(Some(path.clone())),
            named: Some(path.clone()),
            started: Instant::now(),
        };
        assert!(fp.waiting());
        fp.report(40, 500).expect("report");
        assert!(!fp.waiting());
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!((v["rows"].as_u64(), v["credentials"].as_u64()), (Some(40), Some(500)));
        assert!(v["paintedUnixMs"].as_f64().is_some_and(|t| t > 1.6e12));
        std::fs::remove_file(&path).expect("rm");
        fp.report(1, 1).expect("second report");
        assert!(!path.exists());
        fp.rearm();
        assert!(fp.waiting(), "a new window reports again");
        fp.report(2, 500).expect("report of the new window");
        assert!(path.exists());
        std::fs::remove_file(&path).expect("rm");
        let inert = FirstPaint {
            file: Mutex::new(None),
            named: None,
            started: Instant::now(),
        };
        inert.rearm();
        assert!(!inert.waiting());
        inert.report(1, 1).expect("inert");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
    }
}
