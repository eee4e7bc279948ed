//! Rotation reminders: which credentials are due, and this machine's record of what it has
//! already reminded of.
//!
//! The record is per machine and lives in the local data dir (`reminders.json`), never in a
//! vault's metadata: a team vault's document is shared (read-only staff cannot write it, and
//! one machine's reminder must not silence the others), and a restart must not remind twice
//! on one day. It holds, per credential id, the last day this machine reminded of it, and an
//! optional "paused on" day (the tray's "Pause reminders for today").
//!
//! The file is a convenience, not a store of anything valuable: one that cannot be parsed is
//! replaced by an empty record (the worst case is one repeated reminder), it is bounded in
//! size, and entries older than [`KEEP_DAYS`] are dropped on every write.

use crate::dto::{CredentialSummary, RotationStatus};
use crate::vault::metadata::{lock_file, write_atomic};
use crate::{Result, Vault};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File name of the record, in the local data dir.
pub const FILE_NAME: &str = "reminders.json";
/// Entries older than this many days are dropped.
pub const KEEP_DAYS: i64 = 60;
/// A record larger than this is not read (and is replaced on the next write).
const MAX_BYTES: u64 = 1 << 20;
/// At most this many credentials are remembered (the newest days win).
const MAX_ENTRIES: usize = 20_000;

/// A credential that is due soon or overdue, with the vault it belongs to.
#[derive(Debug, Clone)]
pub struct DueCredential {
    /// The vault's name on this machine: `local` or a connected team vault's name.
    pub vault: String,
    /// The credential (its rotation status is due soon or overdue).
    pub credential: CredentialSummary,
}

/// The credentials of `vault` that are due soon or overdue, most urgent first.
///
/// # Errors
/// As [`Vault::list`].
pub fn due_in(vault: &Vault) -> Result<Vec<DueCredential>> {
    let mut due: Vec<DueCredential> = vault
        .list()?
        .into_iter()
        .filter(|c| c.rotation.status != RotationStatus::Ok)
        .map(|credential| DueCredential {
            vault: vault.name().to_string(),
            credential,
        })
        .collect();
    sort_by_urgency(&mut due);
    Ok(due)
}

/// Today on `clock`, in the local time zone: the day the reminder record counts in.
pub fn today(clock: &dyn crate::Clock) -> NaiveDate {
    clock.now().with_timezone(&chrono::Local).date_naive()
}

/// Sorts most urgent first (fewest days left), then by vault and name.
pub fn sort_by_urgency(due: &mut [DueCredential]) {
    due.sort_by(|a, b| {
        a.credential
            .rotation
            .days_left
            .cmp(&b.credential.rotation.days_left)
            .then_with(|| a.vault.cmp(&b.vault))
            .then_with(|| a.credential.name.cmp(&b.credential.name))
    });
}

/// Rotation status in words: "overdue by 5 days", "due in 5 days", "due today".
pub fn status_words(c: &CredentialSummary) -> String {
    let days = c.rotation.days_left.unsigned_abs();
    let unit = if days == 1 { "day" } else { "days" };
    match c.rotation.status {
        RotationStatus::Overdue => format!("overdue by {days} {unit}"),
        RotationStatus::DueSoon if days == 0 => "due today".into(),
        RotationStatus::DueSoon => format!("due in {days} {unit}"),
        RotationStatus::Ok => format!("ok, due in {days} {unit}"),
    }
}

/// A credential's name with its vault when that is not the local one: "shop (team eu)".
pub fn label(d: &DueCredential) -> String {
    if d.vault == crate::vault::team::LOCAL_VAULT {
        d.credential.name.clone()
    } else {
        format!("{} (team {})", d.credential.name, d.vault)
    }
}

/// Title and body of the reminder for `due` (not empty): one credential by name, several
/// as one summary.
pub fn message(due: &[DueCredential]) -> (String, String) {
    if let [one] = due {
        let c = &one.credential;
        let title = format!("Rotate “{}”: {}", label(one), status_words(c));
        let body = format!(
            "{} ({}). Open Tillkey and choose Rotate to replace its secret, or Mark as rotated if you already did.",
            c.provider_label, c.environment
        );
        return (title, body);
    }
    let title = format!("{} credentials need rotation", due.len());
    let lines: Vec<String> = due
        .iter()
        .map(|d| format!("{}: {}", label(d), status_words(&d.credential)))
        .collect();
    (title, format!("{}\nOpen Tillkey to rotate them.", lines.join("\n")))
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    /// The day reminders were paused for ("Pause reminders for today").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    paused_on: Option<NaiveDate>,
    /// Credential id → the last day this machine reminded of it.
    #[serde(default)]
    reminded: BTreeMap<String, NaiveDate>,
}

/// This machine's reminder record (`reminders.json` in the local data dir).
#[derive(Debug, Clone)]
pub struct ReminderLog {
    path: PathBuf,
}

impl ReminderLog {
    /// The record in `data_dir` (the local vault's data dir, also for team vaults). Nothing
    /// is read or created until it is used.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(FILE_NAME),
        }
    }

    /// Where the record is kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether reminders are paused on `today`.
    pub fn paused(&self, today: NaiveDate) -> bool {
        self.read().paused_on == Some(today)
    }

    /// Pauses reminders until the end of `today` (local date).
    ///
    /// # Errors
    /// File errors (the data dir cannot be written).
    pub fn pause(&self, today: NaiveDate) -> Result<()> {
        self.update(today, |r| r.paused_on = Some(today))
    }

    /// Of `due`, those not reminded of on `today`, or none while reminders are paused today.
    pub fn pending(&self, due: &[DueCredential], today: NaiveDate) -> Vec<DueCredential> {
        let record = self.read();
        if record.paused_on == Some(today) {
            return Vec::new();
        }
        due.iter()
            .filter(|d| record.reminded.get(&d.credential.id).is_none_or(|day| *day < today))
            .cloned()
            .collect()
    }

    /// Records that `reminded` were reminded of on `today`.
    ///
    /// # Errors
    /// File errors (the data dir cannot be written).
    pub fn mark(&self, reminded: &[DueCredential], today: NaiveDate) -> Result<()> {
        self.update(today, |r| {
            for d in reminded {
                r.reminded.insert(d.credential.id.clone(), today);
            }
        })
    }

    /// Reads the record; a missing, oversized or unparseable file is an empty record.
    fn read(&self) -> Record {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Record::default();
        };
        if meta.len() > MAX_BYTES {
            return Record::default();
        }
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok())
            .map(sanitized)
            .unwrap_or_default()
    }

    /// Read, change and write the record under a lock file, so two processes of this
    /// machine (the app and a CLI, say) do not lose each other's marks.
    fn update(&self, today: NaiveDate, change: impl FnOnce(&mut Record)) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        crate::vault::metadata::create_private_dir(dir)?;
        let _lock = lock_file(&dir.join(".reminders.lock"))?;
        let mut record = self.read();
        change(&mut record);
        prune(&mut record, today);
        let bytes =
            serde_json::to_vec_pretty(&record).map_err(|e| crate::Error::Internal(format!("reminder record: {e}")))?;
        write_atomic(&self.path, &bytes)
    }
}

/// Drops entries whose key is not a credential id (a UUID) or whose day is implausible.
fn sanitized(mut r: Record) -> Record {
    r.reminded.retain(|id, _| crate::vault::check::is_uuid(id));
    r
}

/// Drops entries older than [`KEEP_DAYS`] and any beyond [`MAX_ENTRIES`] (oldest first),
/// and a pause from another day.
fn prune(r: &mut Record, today: NaiveDate) {
    let oldest = today
        .checked_sub_signed(chrono::Duration::days(KEEP_DAYS))
        .unwrap_or(NaiveDate::MIN);
    r.reminded.retain(|_, day| *day >= oldest && *day <= today);
    if r.paused_on.is_some_and(|d| d != today) {
        r.paused_on = None;
    }
    if r.reminded.len() > MAX_ENTRIES {
        let mut days: Vec<NaiveDate> = r.reminded.values().copied().collect();
        days.sort_unstable();
        let cut = days[days.len() - MAX_ENTRIES];
        r.reminded.retain(|_, day| *day >= cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FixedClock, MemoryStore, NewCredential};
    use std::sync::Arc;

    /// A vault where "old" is 5 days overdue and "newer" is due in 5 days, and its due list.
    fn due_pair() -> (tempfile::TempDir, Vec<DueCredential>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(FixedClock::new(chrono::Utc::now() - chrono::Duration::days(95)));
        let vault = Vault::open(dir.path(), Arc::new(MemoryStore::new()), clock.clone()).expect("vault");
        let add = |name: &str| {
            vault
                .add(NewCredential {
                    name: name.into(),
                    provider: "bearer".into(),
                    environment: None,
                    fields: BTreeMap::new(),
                    secrets: [("token".to_string(), "t".to_string().into())].into(),
                })
                .expect("add");
        };
        add("old");
        clock.advance(chrono::Duration::days(10));
        add("newer");
        add("fresh-later");
        clock.advance(chrono::Duration::days(85));
        vault.set_rotation_period("fresh-later", 365).expect("period");
        let due = due_in(&vault).expect("due");
        (dir, due)
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2030, 3, d).expect("date")
    }

    #[test]
    fn words_for_each_status() {
        let (_dir, due) = due_pair();
        assert_eq!(status_words(&due[0].credential), "overdue by 5 days");
        assert_eq!(status_words(&due[1].credential), "due in 5 days");
    }

    #[test]
    fn one_or_many_credentials_and_their_vaults() {
        let (_dir, mut due) = due_pair();
        let (title, body) = message(&due[..1]);
        assert_eq!(title, "Rotate “old”: overdue by 5 days");
        assert!(body.contains("Bearer token"), "{body}");
        due[1].vault = "eu".into();
        let (title, body) = message(&due);
        assert_eq!(title, "2 credentials need rotation");
        assert!(body.contains("old: overdue by 5 days"), "{body}");
        assert!(body.contains("newer (team eu): due in 5 days"), "{body}");
    }

    #[test]
    fn due_lists_only_due_credentials_most_urgent_first() {
        let (_dir, due) = due_pair();
        let names: Vec<&str> = due.iter().map(|d| d.credential.name.as_str()).collect();
        assert_eq!(names, ["old", "newer"]);
        assert!(due.iter().all(|d| d.vault == "local"));
    }

    #[test]
    fn a_credential_marked_as_rotated_is_no_longer_due() {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(FixedClock::new(chrono::Utc::now() - chrono::Duration::days(95)));
        let vault = Vault::open(dir.path(), Arc::new(MemoryStore::new()), clock.clone()).expect("vault");
        vault
            .add(NewCredential {
                name: "old".into(),
                provider: "bearer".into(),
                environment: None,
                fields: BTreeMap::new(),
                secrets: [("token".to_string(), "t".to_string().into())].into(),
            })
            .expect("add");
        clock.advance(chrono::Duration::days(95));
        assert_eq!(due_in(&vault).expect("due").len(), 1);
        vault.mark_rotated("old").expect("mark rotated");
        assert!(due_in(&vault).expect("due").is_empty());
    }

    #[test]
    fn reminds_once_a_day_across_restarts() {
        let (dir, all) = due_pair();
        let log = ReminderLog::new(dir.path());
        assert_eq!(log.pending(&all, day(1)).len(), 2);
        log.mark(&all[..1], day(1)).expect("mark");
        // A new process reads the same file.
        let again = ReminderLog::new(dir.path());
        let pending = again.pending(&all, day(1));
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].credential.name, "newer");
        assert_eq!(again.pending(&all, day(2)).len(), 2, "a new day reminds again");
    }

    #[test]
    fn pause_lasts_for_the_day() {
        let (dir, all) = due_pair();
        let log = ReminderLog::new(dir.path());
        log.pause(day(5)).expect("pause");
        assert!(log.paused(day(5)));
        assert!(log.pending(&all, day(5)).is_empty());
        assert!(!log.paused(day(6)));
        assert_eq!(log.pending(&all, day(6)).len(), 2);
    }

    #[test]
    fn hostile_or_broken_file_is_an_empty_record() {
        let (dir, all) = due_pair();
        let log = ReminderLog::new(dir.path());
        for junk in [
            &b"{not json"[..],
            br#"{"reminded": {"../../etc": "2030-03-01"}, "pausedOn": "2030-03-01"}"#,
            br#"{"reminded": 7}"#,
            b"\xff\xfe",
        ] {
            std::fs::write(log.path(), junk).expect("write");
            assert!(log.pending(&all, day(1)).len() <= 2);
            log.mark(&all, day(1)).expect("a broken record is replaced");
            assert!(log.pending(&all, day(1)).is_empty());
            let text = std::fs::read_to_string(log.path()).expect("read");
            assert!(!text.contains("etc"), "{text}");
        }
        std::fs::write(log.path(), vec![b' '; (MAX_BYTES + 1) as usize]).expect("write");
        assert_eq!(log.pending(&all, day(1)).len(), 2, "an oversized record is not read");
    }

    #[test]
    fn old_entries_are_dropped() {
        let (dir, all) = due_pair();
        let log = ReminderLog::new(dir.path());
        log.mark(&all[..1], day(1)).expect("mark");
        let later = day(1) + chrono::Duration::days(KEEP_DAYS + 1);
        log.mark(&all[1..], later).expect("mark");
        let text = std::fs::read_to_string(log.path()).expect("read");
        assert!(!text.contains(&all[0].credential.id), "{text}");
        assert!(text.contains(&all[1].credential.id), "{text}");
    }
}
