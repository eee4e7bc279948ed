//! Secret age: when each long-lived secret field of a credential (client secret, personal
//! access token, password, pre-shared key) and its refresh token were last set, and the
//! expiry a secret in JWT form carries (a Paysera POS PAT).
//!
//! The record keeps its dates in a normal form that older documents already are in:
//! `rotated_at` is the date of the OLDEST long-lived secret field (the rotation status
//! counts from it, so every reader of `rotated_at` stays right), and `secret_set_at` lists
//! only the fields set later than that. A field not listed was set at `rotated_at`; so a
//! document written before per-field dates existed reads as every field set at its
//! rotation date, and nothing is lost.
//!
//! Renewal rules:
//! - a rotation ([`crate::vault::Vault::commit_rotation`]) renews the fields whose value
//!   changed, and only those; the status then follows whichever field is now oldest;
//! - marking rotated ([`crate::vault::Vault::mark_rotated`]) renews every long-lived field:
//!   the merchant says the credential was rotated outside Tillkey, and Tillkey cannot tell
//!   which of its secrets the portal renewed (the stored values do not change), so it takes
//!   the merchant's word for the whole credential;
//! - the refresh token's date is the time its provider last issued one. The provider
//!   renews it, not the merchant, so it is shown but the rotation status does not follow it.
//!   Only the local vault records it (a team vault keeps token metadata out of the shared
//!   document).
//!
//! A secret's own expiry is read from the JWT `exp` claim when the secret is set (added
//! or rotated in), without verifying the signature: it is for display only and never
//! trusted for anything else. A secret that is not a JWT has none.

use super::metadata::CredentialRecord;
use crate::dto::ProviderSchema;
use chrono::{DateTime, Datelike, Utc};
use secrecy::SecretString;
use serde::Serialize;
use std::collections::BTreeMap;
use ts_rs::TS;

/// The name [`SecretAge::field`] gives the refresh token.
pub const REFRESH_TOKEN: &str = "refresh_token";

/// The age of one secret of a credential, as `tillkey list`/`show` and the window show it.
/// Never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SecretAge {
    /// The secret field's name (`client_secret`, `token`, …), or `refresh_token`.
    pub field: String,
    /// Its label in the provider's form ("Refresh token" for the refresh token).
    pub label: String,
    /// When its value was last set (added, rotated, marked rotated; issued, for the
    /// refresh token).
    pub set_at: DateTime<Utc>,
    /// Whole days since `set_at` (0 on the day it was set).
    #[ts(type = "number")]
    pub age_days: i64,
    /// Whether the rotation status follows this secret: every long-lived secret field
    /// does; the refresh token, which the provider renews, does not.
    pub rotates: bool,
    /// Whether this is the oldest long-lived field, the one the rotation status counts from.
    pub oldest: bool,
    /// The secret's own expiry, where it carries one (a PAT in JWT form: its `exp`).
    pub expires_at: Option<DateTime<Utc>>,
}

/// When `field` of `r` was last set (a field not listed was set at `rotated_at`).
pub fn set_at(r: &CredentialRecord, field: &str) -> DateTime<Utc> {
    r.secret_set_at
        .get(field)
        .copied()
        .filter(|d| *d > r.rotated_at)
        .unwrap_or(r.rotated_at)
}

/// Brings `r` to the normal form: `rotated_at` is the oldest long-lived field's date and
/// `secret_set_at` lists only later fields; dates and expiries of fields the record does not
/// hold are dropped.
pub fn normalize(r: &mut CredentialRecord) {
    let held = |f: &String| r.secret_fields.contains(f);
    let dates: BTreeMap<String, DateTime<Utc>> = r.secret_fields.iter().map(|f| (f.clone(), set_at(r, f))).collect();
    r.secret_expires_at.retain(|f, _| held(f));
    if let Some(oldest) = dates.values().min() {
        r.rotated_at = *oldest;
    }
    let base = r.rotated_at;
    r.secret_set_at = dates.into_iter().filter(|(_, d)| *d > base).collect();
}

/// A rotation: `renewed` fields were set at `now` (with their new own `expiries`); the
/// others keep their dates. `rotated_at` then follows the oldest field.
pub fn renew(
    r: &mut CredentialRecord,
    renewed: &[String],
    expiries: &BTreeMap<String, DateTime<Utc>>,
    now: DateTime<Utc>,
) {
    let mut dates: BTreeMap<String, DateTime<Utc>> =
        r.secret_fields.iter().map(|f| (f.clone(), set_at(r, f))).collect();
    for f in renewed {
        dates.insert(f.clone(), now);
        match expiries.get(f) {
            Some(e) => r.secret_expires_at.insert(f.clone(), *e),
            None => r.secret_expires_at.remove(f),
        };
    }
    // Every field (even one older than the previous `rotated_at`) is listed; normalising
    // puts `rotated_at` at the oldest and drops the entries it implies.
    r.rotated_at = dates.values().min().copied().unwrap_or(now);
    r.secret_set_at = dates;
    normalize(r);
}

/// Marked rotated at `now`: every long-lived field counts as renewed. The stored values do
/// not change, so their own expiries stay.
pub fn renew_all(r: &mut CredentialRecord, now: DateTime<Utc>) {
    r.rotated_at = now;
    r.secret_set_at.clear();
}

/// Restored from a backup: each long-lived field named in `dates` was set then, clamped to
/// the years since 1970 and to no later than `now` (a backup cannot make a secret look
/// newer than it is, nor date it in the future); fields not named keep their dates.
/// `rotated_at` then follows the oldest field.
pub fn restore(r: &mut CredentialRecord, dates: &BTreeMap<String, DateTime<Utc>>, now: DateTime<Utc>) {
    let floor = DateTime::<Utc>::UNIX_EPOCH;
    let mut all: BTreeMap<String, DateTime<Utc>> = r.secret_fields.iter().map(|f| (f.clone(), set_at(r, f))).collect();
    for (f, at) in dates {
        if let Some(d) = all.get_mut(f) {
            // `max` then `min` (not `clamp`, which panics should a clock read before 1970).
            *d = (*at).max(floor).min(now);
        }
    }
    r.rotated_at = all.values().min().copied().unwrap_or(r.rotated_at);
    r.secret_set_at = all;
    normalize(r);
}

/// The own expiries of `secrets` that are JWTs with an `exp` inside the years a document
/// holds (1970 to 9999). Read without verifying, for display only.
pub fn expiries(secrets: &BTreeMap<String, SecretString>) -> BTreeMap<String, DateTime<Utc>> {
    secrets
        .iter()
        .filter_map(|(f, v)| {
            crate::jwt::expiry(v)
                .filter(|e| (1970..=9999).contains(&e.year()))
                .map(|e| (f.clone(), e))
        })
        .collect()
}

/// The loader's check of a record's secret dates (see [`super::check`]): every date and
/// expiry is of a secret field the record holds and inside the years 1970 to 9999; then
/// the record is brought to the normal form.
///
/// # Errors
/// What is wrong, in words (never a value).
pub fn check(r: &mut CredentialRecord) -> Result<(), String> {
    let in_years = |d: &DateTime<Utc>| (1970..=9999).contains(&d.year());
    for (what, map) in [
        ("secret_set_at", &r.secret_set_at),
        ("secret_expires_at", &r.secret_expires_at),
    ] {
        if map.keys().any(|f| !r.secret_fields.contains(f)) {
            return Err(format!("`{what}` names a field that is not one of its secret fields"));
        }
        if !map.values().all(in_years) {
            return Err(format!("`{what}` holds a date outside the years 1970 to 9999"));
        }
    }
    if r.refresh_token_set_at.as_ref().is_some_and(|d| !in_years(d)) {
        return Err("`refresh_token_set_at` is outside the years 1970 to 9999".into());
    }
    normalize(r);
    Ok(())
}

/// The ages of `r`'s secrets at `now`, in the order of its provider's form, then the
/// refresh token's where one is held (`schema` gives the labels).
pub fn ages(r: &CredentialRecord, schema: Option<&ProviderSchema>, now: DateTime<Utc>) -> Vec<SecretAge> {
    let days = |at: DateTime<Utc>| now.signed_duration_since(at).num_days().max(0);
    let label = |f: &str| {
        schema
            .and_then(|s| s.field(f))
            .map(|f| f.label.clone())
            .unwrap_or_else(|| f.to_string())
    };
    let position = |f: &str| {
        schema
            .and_then(|s| s.fields.iter().position(|x| x.name == f))
            .unwrap_or(usize::MAX)
    };
    let mut fields: Vec<&String> = r.secret_fields.iter().collect();
    fields.sort_by_key(|f| position(f));
    let mut oldest_marked = false;
    let mut out: Vec<SecretAge> = fields
        .into_iter()
        .map(|f| {
            let at = set_at(r, f);
            // The first field at the record's date is the one the status counts from.
            let oldest = !oldest_marked && at == r.rotated_at;
            oldest_marked |= oldest;
            SecretAge {
                field: f.clone(),
                label: label(f),
                set_at: at,
                age_days: days(at),
                rotates: true,
                oldest,
                expires_at: r.secret_expires_at.get(f).copied(),
            }
        })
        .collect();
    let refreshable = r.token.as_ref().is_some_and(|t| t.refreshable);
    if let Some(at) = r.refresh_token_set_at.filter(|_| refreshable) {
        out.push(SecretAge {
            field: REFRESH_TOKEN.into(),
            label: "Refresh token".into(),
            set_at: at,
            age_days: days(at),
            rotates: false,
            oldest: false,
            expires_at: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::Environment;
    use base64::Engine as _;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    fn ereceipt() -> CredentialRecord {
        CredentialRecord {
            id: "7d8e9f10-1112-4314-9516-171819202122".into(),
            name: "till".into(),
            provider: "ereceipt".into(),
            environment: Environment::Production,
            fields: BTreeMap::new(),
            secret_fields: vec!["client_secret".into(), "presharedkey".into()],
            secret_rev: 1,
            created_at: t0(),
            rotated_at: t0(),
            rotation_period_days: 90,
            token: None,
            last_test: None,
            secret_set_at: BTreeMap::new(),
            secret_expires_at: BTreeMap::new(),
            refresh_token_set_at: None,
            extra: Default::default(),
        }
    }

    fn jwt(payload: &str) -> SecretString {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        SecretString::from(format!("{}.{}.sig", b(r#"{"alg":"RS256"}"#), b(payload)))
    }

    #[test]
    fn a_restore_takes_the_backups_dates_clamped_to_now() {
        let mut r = ereceipt();
        let now = t0() + Duration::days(200);
        r.rotated_at = now;
        let dates = BTreeMap::from([
            ("client_secret".to_string(), t0() + Duration::days(120)),
            // A date in the future reads as now; an unknown field is ignored.
            ("presharedkey".to_string(), now + Duration::days(30)),
            ("not_a_field".to_string(), t0()),
        ]);
        restore(&mut r, &dates, now);
        assert_eq!(set_at(&r, "client_secret"), t0() + Duration::days(120));
        assert_eq!(set_at(&r, "presharedkey"), now);
        assert_eq!(
            r.rotated_at,
            t0() + Duration::days(120),
            "the status follows the oldest"
        );
        assert!(!r.secret_set_at.contains_key("not_a_field"));
        // A date before 1970 is held at 1970.
        restore(
            &mut r,
            &BTreeMap::from([("client_secret".to_string(), DateTime::<Utc>::MIN_UTC)]),
            now,
        );
        assert_eq!(r.rotated_at, DateTime::<Utc>::UNIX_EPOCH);
    }

    #[test]
    fn a_record_without_dates_has_every_field_at_its_rotation_date() {
        let r = ereceipt();
        let a = ages(&r, None, t0() + Duration::days(30));
        assert_eq!(a.len(), 2);
        assert!(a.iter().all(|a| a.set_at == t0() && a.age_days == 30 && a.rotates));
        assert_eq!(a.iter().filter(|a| a.oldest).count(), 1);
    }

    #[test]
    fn rotating_one_field_renews_it_and_the_status_follows_the_oldest() {
        let mut r = ereceipt();
        let t50 = t0() + Duration::days(50);
        renew(&mut r, &["client_secret".into()], &BTreeMap::new(), t50);
        assert_eq!(set_at(&r, "client_secret"), t50);
        assert_eq!(set_at(&r, "presharedkey"), t0());
        assert_eq!(r.rotated_at, t0(), "the status counts from the pre-shared key");
        let now = t0() + Duration::days(100);
        let status = crate::schedule::status(r.rotated_at, 90, 14, now);
        assert_eq!(status.status, crate::dto::RotationStatus::Overdue);
        let a = ages(&r, None, now);
        assert_eq!((a[0].age_days, a[0].oldest), (50, false));
        assert_eq!((a[1].age_days, a[1].oldest), (100, true));

        // Rotating the pre-shared key too: the client secret is now the oldest, 50 days.
        renew(&mut r, &["presharedkey".into()], &BTreeMap::new(), now);
        assert_eq!(r.rotated_at, t50);
        assert_eq!(r.secret_set_at, BTreeMap::from([("presharedkey".to_string(), now)]));
        let status = crate::schedule::status(r.rotated_at, 90, 14, now);
        assert_eq!((status.status, status.days_left), (crate::dto::RotationStatus::Ok, 40));
    }

    #[test]
    fn marking_rotated_renews_every_field_and_keeps_expiries() {
        let mut r = ereceipt();
        r.secret_expires_at
            .insert("client_secret".into(), t0() + Duration::days(365));
        renew(
            &mut r,
            &["client_secret".into()],
            &BTreeMap::new(),
            t0() + Duration::days(10),
        );
        assert!(
            r.secret_expires_at.is_empty(),
            "a new value that is not a JWT has no expiry"
        );
        r.secret_expires_at
            .insert("presharedkey".into(), t0() + Duration::days(365));
        let now = t0() + Duration::days(20);
        renew_all(&mut r, now);
        assert!(r.secret_fields.iter().all(|f| set_at(&r, f) == now));
        assert_eq!(r.secret_expires_at.len(), 1);
    }

    #[test]
    fn an_old_document_reads_with_every_field_at_its_rotation_date() {
        // A record as builds before per-field dates wrote it.
        let json = r#"{"schema":1,"vault_id":"0b5f0c1e-55a4-4a8e-9a53-2f7b1f0d9d11","credentials":[
          {"id":"7d8e9f10-1112-4314-9516-171819202122","name":"till","provider":"ereceipt",
           "environment":"production","fields":{"identity_url":"https://id.example","client_id":"c",
           "posserial":"1","pososversion":"1","posmodelframework":"1"},
           "secret_fields":["client_secret","presharedkey"],"secret_rev":3,"created_at":"2025-01-01T00:00:00Z",
           "rotated_at":"2026-01-01T12:00:00Z","rotation_period_days":90,"future_field":{"kept":true}}]}"#;
        let m = super::super::check::parse_document(json.as_bytes()).unwrap();
        let r = &m.credentials[0];
        assert!(r.secret_set_at.is_empty());
        let a = ages(
            r,
            crate::providers::schema("ereceipt").ok().as_ref(),
            t0() + Duration::days(3),
        );
        let fields: Vec<_> = a
            .iter()
            .map(|a| (a.field.as_str(), a.label.as_str(), a.age_days))
            .collect();
        assert_eq!(
            fields,
            [
                ("client_secret", "Client secret", 3),
                ("presharedkey", "Pre-shared key", 3)
            ]
        );
        // Written back, the file keeps what it had (no per-field dates invented, unknown
        // fields kept) and reads the same again.
        let written = serde_json::to_string(&m).unwrap();
        assert!(!written.contains("secret_set_at") && written.contains("future_field"));
        let again = super::super::check::parse_document(written.as_bytes()).unwrap();
        assert_eq!(again.credentials[0].rotated_at, r.rotated_at);
    }

    #[test]
    fn hostile_dates_are_refused_and_stray_ones_normalised() {
        let mut r = ereceipt();
        r.secret_set_at.insert("nope".into(), t0());
        assert!(check(&mut r).unwrap_err().contains("not one of its secret fields"));
        let mut r = ereceipt();
        r.secret_expires_at
            .insert("client_secret".into(), DateTime::<Utc>::MAX_UTC);
        assert!(check(&mut r).is_err());
        let mut r = ereceipt();
        r.refresh_token_set_at = Some(DateTime::<Utc>::MIN_UTC);
        assert!(check(&mut r).is_err());
        // Every field listed later than `rotated_at` (a hand edit): the oldest becomes it.
        let mut r = ereceipt();
        let (a, b) = (t0() + Duration::days(5), t0() + Duration::days(9));
        r.secret_set_at = BTreeMap::from([("client_secret".into(), a), ("presharedkey".into(), b)]);
        check(&mut r).unwrap();
        assert_eq!(r.rotated_at, a);
        assert_eq!(r.secret_set_at, BTreeMap::from([("presharedkey".to_string(), b)]));
        // Ages at any instant do not panic.
        for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = ages(&r, None, now);
        }
    }

    #[test]
    fn a_pat_in_jwt_form_shows_its_own_expiry_and_an_opaque_one_none() {
        let secrets = BTreeMap::from([
            ("token".to_string(), jwt(r#"{"sub":"pos","exp":1900000000}"#)),
            (
                "other".to_string(),
                SecretString::from("vjqje92BWVesdh8TE6nBfepst0mf11wHA6"),
            ),
            ("far".to_string(), jwt(r#"{"exp":999999999999}"#)),
        ]);
        let e = expiries(&secrets);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e["token"].timestamp(), 1_900_000_000);
    }

    /// Through the vault with a fixed clock: add, rotate one field, mark rotated.
    #[test]
    fn the_vault_renews_what_a_rotation_changed_and_what_marking_says() {
        use crate::clock::FixedClock;
        use crate::dto::{NewCredential, RotationStatus};
        use crate::vault::{secrets::MemoryStore, Vault};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(t0()));
        let vault = Vault::open(dir.path(), Arc::new(MemoryStore::new()), clock.clone()).unwrap();
        let map = |p: &[(&str, &str)]| -> BTreeMap<String, String> {
            p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let secrets = |p: &[(&str, &str)]| -> BTreeMap<String, SecretString> {
            p.iter().map(|(k, v)| (k.to_string(), SecretString::from(*v))).collect()
        };
        vault
            .add(NewCredential {
                name: "till".into(),
                provider: "ereceipt".into(),
                environment: None,
                fields: map(&[
                    ("identity_url", "https://id.example"),
                    ("client_id", "c"),
                    ("posserial", "1"),
                    ("pososversion", "1"),
                    ("posmodelframework", "1"),
                ]),
                secrets: secrets(&[("client_secret", "s1"), ("presharedkey", "k1")]),
            })
            .unwrap();
        let age_of = |field: &str| {
            let s = vault.show("till").unwrap();
            let a = s.secret_ages.iter().find(|a| a.field == field).unwrap().clone();
            (a.age_days, a.oldest, s.rotation.status)
        };
        clock.advance(Duration::days(50));
        // Given again with the same value, the pre-shared key is not renewed.
        let staged = vault
            .stage_rotation("till", secrets(&[("client_secret", "s2"), ("presharedkey", "k1")]))
            .unwrap();
        vault.commit_rotation(staged).unwrap();
        clock.advance(Duration::days(50));
        assert_eq!(age_of("client_secret"), (50, false, RotationStatus::Overdue));
        assert_eq!(age_of("presharedkey"), (100, true, RotationStatus::Overdue));
        let staged = vault
            .stage_rotation("till", secrets(&[("presharedkey", "k2")]))
            .unwrap();
        let s = vault.commit_rotation(staged).unwrap();
        assert_eq!((s.rotation.status, s.rotation.days_left), (RotationStatus::Ok, 40));
        assert_eq!(age_of("presharedkey"), (0, false, RotationStatus::Ok));
        assert_eq!(age_of("client_secret"), (50, true, RotationStatus::Ok));
        // Marked rotated: every field renewed.
        clock.advance(Duration::days(1));
        let s = vault.mark_rotated("till").unwrap();
        assert!(s.secret_ages.iter().all(|a| a.age_days == 0), "{:?}", s.secret_ages);
        assert_eq!(s.rotation.days_left, 90);

        // A Paysera POS PAT in JWT form carries its expiry; rotated to an opaque one, none.
        let pat = jwt(r#"{"sub":"pos-user","exp":1900000000}"#);
        vault
            .add(NewCredential {
                name: "pos".into(),
                provider: "paysera-pos".into(),
                environment: None,
                fields: BTreeMap::new(),
                secrets: BTreeMap::from([("token".to_string(), pat)]),
            })
            .unwrap();
        let token = |s: &crate::dto::CredentialSummary| s.secret_ages[0].expires_at.map(|e| e.timestamp());
        assert_eq!(token(&vault.show("pos").unwrap()), Some(1_900_000_000));
        let file = std::fs::read_to_string(dir.path().join("vault.json")).unwrap();
        assert!(!file.contains("pos-user"), "only the date is kept");
        let staged = vault
            .stage_rotation("pos", secrets(&[("token", "opaque-pat")]))
            .unwrap();
        assert_eq!(token(&vault.commit_rotation(staged).unwrap()), None);
    }

    #[test]
    fn the_refresh_token_shows_while_one_is_held_and_never_counts() {
        let mut r = ereceipt();
        let issued = t0() + Duration::days(2);
        r.refresh_token_set_at = Some(issued);
        assert_eq!(ages(&r, None, t0()).len(), 2, "no token info: none held");
        r.token = Some(crate::dto::TokenInfo {
            obtained_at: issued,
            expires_at: issued + Duration::hours(1),
            renew_at: issued,
            refreshable: true,
            scope: None,
            taxpayer_tags: None,
        });
        let a = ages(&r, None, t0() + Duration::days(7));
        let last = a.last().unwrap();
        assert_eq!(
            (last.field.as_str(), last.age_days, last.rotates),
            (REFRESH_TOKEN, 5, false)
        );
    }
}
